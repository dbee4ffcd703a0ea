from django.utils.translation import gettext_lazy as _

from satu.core.errors import DomainError


class StageRulesUnmet(DomainError):
    """A forward move (or a win) refused: `fields["stage_rules"]` names each rule."""

    code = "crm.stage_rules_unmet"
    http_status = 409
    default_message = _("The deal cannot move on: some stage rules are not met.")


class StageDrivenByProcess(DomainError):
    code = "crm.stage_driven_by_process"
    http_status = 409
    default_message = _(
        "The stages of this deal are driven by its business process; "
        "they cannot be moved by hand."
    )


class DealHasNoStages(DomainError):
    code = "crm.deal_has_no_stages"
    http_status = 409
    default_message = _("Deals of this kind have no stages (status only).")


class DealClosed(DomainError):
    code = "crm.deal_closed"
    http_status = 409
    default_message = _("The deal is closed; reopen it first.")


class DealNotClosed(DomainError):
    code = "crm.deal_not_closed"
    http_status = 409
    default_message = _("Only a won or lost deal can be reopened.")


class InteractionStateInvalid(DomainError):
    code = "crm.interaction_state_invalid"
    http_status = 409
    default_message = _("Only a planned interaction can be completed or cancelled.")


class ClaimBadTransition(DomainError):
    """`fields["state"]` names the states the claim may move to."""

    code = "crm.claim_bad_transition"
    http_status = 409
    default_message = _("The claim cannot move to this state.")


class TaskStateInvalid(DomainError):
    code = "crm.task_state_invalid"
    http_status = 409
    default_message = _("Only an open task can be changed, completed or cancelled.")


# ------------------------------------------------ leads and marketing (CRM-3/6)


class LeadNotNew(DomainError):
    """Only a new lead can be qualified, disqualified or edited."""

    code = "crm.lead_not_new"
    http_status = 409
    default_message = _("This lead has already been qualified or disqualified.")


class LeadFormClosed(DomainError):
    code = "crm.lead_form_closed"
    http_status = 404
    default_message = _("This form does not exist or is closed.")


class TooManySubmissions(DomainError):
    code = "crm.too_many_submissions"
    http_status = 429
    default_message = _("Too many submissions from your address; try again later.")


class LeadImportRejected(DomainError):
    """A lead import with bad rows: nothing was created. The API answer
    carries `created` (0), `invalid_rows` and `errors` ([{row, field,
    message}], the header being row 1)."""

    code = "crm.lead_import_rejected"
    http_status = 422
    default_message = _("Nothing was imported: some rows have errors.")
