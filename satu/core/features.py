"""Feature toggles (P5, PLT-3).

Every module and option registers itself here with the URL prefixes it owns.
A switched-off feature disappears from navigation and forms, its web pages
and API endpoints answer 404 with the code `feature_disabled`, and its
services refuse work (`require`).
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from satu.core import txcache
from satu.core.errors import FeatureDisabled, NotFound
from satu.core.models import FeatureToggle
from satu.core.prepared import prepared


@dataclass(frozen=True)
class Feature:
    code: str
    label: str
    description: str = ""
    default: bool = True
    parent: str | None = None
    web_prefixes: tuple[str, ...] = field(default_factory=tuple)
    api_prefixes: tuple[str, ...] = field(default_factory=tuple)


_registry: dict[str, Feature] = {}


def register(code: str, label, **options) -> Feature:
    feature = Feature(code=code, label=label, **options)
    _registry[code] = feature
    return feature


def registered() -> list[Feature]:
    return list(_registry.values())


def get(code: str) -> Feature:
    try:
        return _registry[code]
    except KeyError:
        raise NotFound(_("Unknown feature “%(code)s”.") % {"code": code}) from None


def enabled_map() -> dict[str, bool]:
    """Every registered feature's effective state, in one query per
    transaction (`satu.core.txcache`): a service that calls three others
    asks once."""
    return txcache.cached("features", _read_map)


def _forget(**_kwargs) -> None:
    txcache.forget("features")


post_save.connect(_forget, sender=FeatureToggle, dispatch_uid="satu.features.save")
post_delete.connect(_forget, sender=FeatureToggle, dispatch_uid="satu.features.del")


_STORED = prepared(lambda: FeatureToggle.objects.values_list("code", "enabled"))


def _read_map() -> dict[str, bool]:
    stored = dict(_STORED.all())
    own = {code: stored.get(code, f.default) for code, f in _registry.items()}

    def effective(code: str) -> bool:
        f = _registry[code]
        return own[code] and (f.parent is None or effective(f.parent))

    return {code: effective(code) for code in _registry}


def is_enabled(code: str) -> bool:
    return enabled_map().get(code, True)


def require(code: str) -> None:
    """Raise FeatureDisabled unless the feature (and its parents) is on."""
    if not is_enabled(code):
        raise FeatureDisabled(
            code, _registry[code].label if code in _registry else None
        )


@transaction.atomic
def feature_set(*, code: str, enabled: bool, actor) -> None:
    """Switch a feature on or off; audited. Needs core.change_featuretoggle."""
    from satu.core import audit
    from satu.core.errors import PermissionDenied

    if not actor.has_perm("core.change_featuretoggle"):
        raise PermissionDenied()
    feature = get(code)
    toggle, _created = FeatureToggle.objects.update_or_create(
        code=feature.code, defaults={"enabled": enabled, "updated_by": actor}
    )
    audit.record(
        actor=actor, subject=toggle, action="switched_on" if enabled else "switched_off"
    )


def feature_for_path(path: str, enabled: dict[str, bool]) -> Feature | None:
    """The switched-off feature owning `path`, if any."""
    for f in _registry.values():
        if enabled.get(f.code, True):
            continue
        if any(path.startswith(p) for p in f.web_prefixes + f.api_prefixes):
            return f
    return None
