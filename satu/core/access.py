"""Record-level access: each domain registers how to find the records an
actor may see, so generic features (attachments, audit, search) never leak
a record by id. Lookups of invisible records answer NotFound, not 403."""

from collections.abc import Callable

from django.db import models
from django.utils.translation import gettext as _

from satu.core.errors import NotFound, PermissionDenied

_visible: dict[str, tuple[type[models.Model], Callable]] = {}
_change_perms: dict[str, str] = {}


def register(
    object_type: str,
    model: type[models.Model],
    visible: Callable,
    *,
    change_perm: str | None = None,
) -> None:
    """`visible(actor) -> QuerySet` of records of `model` the actor may see;
    `change_perm` is the permission needed to add things (files) to one."""
    _visible[object_type] = (model, visible)
    if change_perm:
        _change_perms[object_type] = change_perm


def object_types() -> list[str]:
    return list(_visible)


def object_type_for_model(model) -> str | None:
    for code, (registered, _fn) in _visible.items():
        if registered is model:
            return code
    return None


def editable_get(*, actor, object_type: str, object_id) -> models.Model:
    """Like visible_get, and the actor must hold the type's change permission."""
    obj = visible_get(actor=actor, object_type=object_type, object_id=object_id)
    perm = _change_perms.get(object_type)
    if perm and not actor.has_perm(perm):
        raise PermissionDenied()
    return obj


def visible_get(*, actor, object_type: str, object_id) -> models.Model:
    entry = _visible.get(object_type)
    if entry is None:
        raise NotFound(_("Unknown object type."))
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    obj = entry[1](actor).filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj
