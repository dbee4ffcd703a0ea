"""What every domain's views share: feature and permission guards, and
turning a service's DomainError into a 404/403 response or form errors.

Views call services and queries; these helpers only translate their
outcome for HTML screens (the API has its own single error mapping).
"""

from django import forms
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404
from django.utils.translation import gettext as _

from satu.core import features
from satu.core.errors import DomainError, FeatureDisabled


def require_feature(request, code: str) -> None:
    """404 with the module's name when the feature is switched off."""
    enabled = getattr(request, "features", None) or features.enabled_map()
    if not enabled.get(code, True):
        raise Http404(str(FeatureDisabled(code, features.get(code).label)))


def require_perm(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise Forbidden(_("You do not have permission to do this."))


def raise_http(exc: DomainError) -> None:
    """404 and 403 errors become Django's responses; others are shown inline."""
    if exc.http_status == 404:
        raise Http404(str(exc))
    if exc.http_status == 403:
        raise Forbidden(str(exc))


def fetch(getter, **kwargs):
    """Call a query; a NotFound/PermissionDenied becomes the HTTP response."""
    try:
        return getter(**kwargs)
    except DomainError as exc:
        raise_http(exc)
        raise


def apply_domain_error(
    form: forms.Form, exc: DomainError, field_names: dict | None = None
) -> None:
    """Show a service error on the form: each `fields` entry on the form field
    of that name (renamed through `field_names`; `custom.<code>` goes to
    `cf_<code>`), the rest as non-field errors."""
    field_names = field_names or {}
    for key, messages in exc.fields.items():
        name = field_names.get(key, key)
        if name.startswith("custom."):
            name = "cf_" + name.removeprefix("custom.")
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
    # A specific message (not the class's generic one) says more than the
    # field markers alone, e.g. "The file is larger than 20 MB.".
    if not exc.fields or str(exc.message) != str(type(exc).default_message):
        form.add_error(None, str(exc.message))
