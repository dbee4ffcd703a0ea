"""Domain errors: one base class, a stable code and an HTTP status each.

The API maps every DomainError to `{"code", "detail", "fields"}`; the web UI
shows the same message. A service raises before it writes, or inside its
transaction so the write is rolled back: a failure leaves no trace.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    http_status = 400
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, fields: dict | None = None, **context):
        self.message = message if message is not None else self.default_message
        self.fields = {k: [str(m) for m in v] for k, v in (fields or {}).items()}
        self.context = context
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class ValidationFailed(DomainError):
    code = "validation_error"
    http_status = 422
    default_message = _("Some fields are not valid.")


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403
    default_message = _("You do not have permission to do this.")


class FeatureDisabled(DomainError):
    code = "feature_disabled"
    http_status = 404

    def __init__(self, feature: str, label=None):
        super().__init__(
            _("The module “%(name)s” is switched off.") % {"name": label or feature},
            feature=feature,
        )


class VersionConflict(DomainError):
    code = "version_conflict"
    http_status = 409
    default_message = _(
        "This record was changed by someone else since you opened it. "
        "Reload it and apply your change again."
    )


class IdempotencyKeyReused(DomainError):
    code = "idempotency.key_reused"
    http_status = 422
    default_message = _(
        "This Idempotency-Key was already used with a different request body."
    )
