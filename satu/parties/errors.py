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


class SegmentRuleInvalid(DomainError):
    """A segment rule names an unknown field, an operator the field does not
    offer, or a value of the wrong kind; `fields` says which condition."""

    code = "parties.segment_rule_invalid"
    http_status = 422
    default_message = _("The segment rules are not valid.")


class SegmentNotEditable(DomainError):
    code = "parties.segment_not_editable"
    http_status = 409
    default_message = _(
        "The members of a rule segment are computed; change its rules instead."
    )
