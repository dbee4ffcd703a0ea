from django.utils.translation import gettext_lazy as _

from satu.core.errors import DomainError


class PossibleDuplicate(DomainError):
    """Raised on create when similar clients exist and the user has not confirmed."""

    code = "parties.possible_duplicate"
    http_status = 409

    def __init__(self, *, candidates: list[dict]):
        names = "; ".join(
            f"{c['name']} ({', '.join(c['reasons'])})" for c in candidates[:5]
        )
        super().__init__(
            _(
                "Possible duplicate of: %(names)s. "
                "Check them, or confirm to create anyway."
            )
            % {"names": names},
            candidates=candidates,
        )


class MergeNotAllowed(DomainError):
    code = "parties.merge_not_allowed"
    http_status = 409


class ClientArchived(DomainError):
    code = "parties.client_archived"
    http_status = 409
    default_message = _("This client is archived; restore it first.")
