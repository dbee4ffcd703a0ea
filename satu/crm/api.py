"""REST endpoints of the CRM domain under /api/v1/: deal kinds with stages
and rules, deals and their stage moves, interactions, competitors, loss
reasons. Endpoints parse, call `services`/`queries` and shape the answer;
deals and interactions of clients the caller may not see answer 404."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from satu.core.api import UserRef
from satu.core.errors import NotFound, PermissionDenied
from satu.crm import queries, services
from satu.crm.errors import LeadImportRejected
from satu.crm.models import Stage

router = Router(tags=["crm"])

ObjectId = Annotated[int, Field(ge=1, le=2**63 - 1)]
ControlMode = Literal["manual_stages", "status_only", "process"]
RuleType = Literal[
    "required_field", "interaction_since_entered", "approval", "document_attached"
]
DealStatus = Literal["in_work", "won", "lost"]
InteractionKind = Literal["meeting", "call", "sms", "email", "planned"]
Direction = Literal["incoming", "outgoing", ""]
Money = Annotated[
    Decimal, Field(ge=0, lt=Decimal(10) ** 16, max_digits=20, decimal_places=4)
]


def _id(**extra):
    return Field(..., ge=1, le=2**63 - 1, **extra)


def _optional_id(**extra):
    return Field(None, ge=1, le=2**63 - 1, **extra)


def _perm(request, perm: str) -> None:
    if not request.auth.has_perm(perm):
        raise PermissionDenied()


# ------------------------------------------------------------------ schemas


class NamedRef(Schema):
    id: int
    name: str


class RuleOut(Schema):
    id: int
    rule_type: RuleType
    field_name: str
    interaction_kind: str
    role_code: str


class RuleIn(Schema):
    rule_type: RuleType
    field_name: str = Field(
        "",
        max_length=40,
        description="For required_field: amount, expected_close, contact, "
        "initial_demand, probability, channel, competitors. For "
        "document_attached: what to attach, shown in the message.",
    )
    interaction_kind: str = Field(
        "", max_length=10, description="For interaction_since_entered."
    )
    role_code: str = Field("", max_length=40, description="For approval.")


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    rules: list[RuleOut]

    @staticmethod
    def resolve_rules(obj) -> list:
        return list(obj.rules.all())


class StageIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    probability: int = Field(0, ge=0, le=100)
    rules: list[RuleIn] = Field(default_factory=list, max_length=50)


class StageAddIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    probability: int = Field(0, ge=0, le=100)
    position: int | None = Field(None, ge=1, le=1000)


class DealKindOut(Schema):
    id: int
    name: str
    control_mode: ControlMode
    is_active: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj) -> list:
        return list(obj.stages.all())


class DealKindIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["Equipment sale"])
    control_mode: ControlMode = "manual_stages"
    stages: list[StageIn] = Field(default_factory=list, max_length=50)


class StageRef(Schema):
    id: int
    name: str
    position: int


class ClientRef(Schema):
    id: int
    name: str


class DealOut(Schema):
    id: int
    title: str
    client: ClientRef
    kind: NamedRef
    stage: StageRef | None
    status: DealStatus
    owner: UserRef
    contact_id: int | None
    amount: Decimal | None = Field(description="Decimal string; null = unknown.")
    currency: str
    expected_close: date | None
    initial_demand: str
    probability: int | None = Field(description="Typed by the manager, %.")
    channel_id: int | None
    reason_id: int | None
    marketing_event_id: int | None
    competitors: list[NamedRef]
    loss_reason: NamedRef | None
    lost_at_stage_id: int | None
    won_to: NamedRef | None = Field(description="The competitor a lost deal went to.")
    loss_note: str
    stage_entered_at: datetime
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_competitors(obj) -> list:
        return list(obj.competitors.all())


class DealLineOut(Schema):
    id: int
    position: int
    product_id: int | None
    description: str
    quantity: Decimal
    unit: str
    price: Decimal | None = Field(description="Expected unit price, deal currency.")
    dropped: bool
    unmet_reason: NamedRef | None
    unmet_note: str


class DealDetailOut(DealOut):
    lines: list[DealLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return queries.deal_lines(deal=obj)


class DealLineIn(Schema):
    product_id: int | None = _optional_id(description="A catalog product.")
    description: str = Field("", max_length=300, description="Or free text.")
    quantity: Decimal = Field(
        Decimal(1), gt=0, lt=Decimal(10) ** 14, max_digits=20, decimal_places=6
    )
    unit: str = Field("", max_length=20)
    price: Money | None = None
    dropped: bool = False
    unmet_reason_id: int | None = _optional_id(description="Why it was not met.")
    unmet_note: str = Field("", max_length=5000)


class DealIn(Schema):
    client_id: int = _id()
    kind_id: int = _id()
    title: str = Field(min_length=1, max_length=200)
    owner_id: int | None = _optional_id(description="Default: the caller.")
    contact_id: int | None = _optional_id()
    amount: Money | None = None
    currency: str = Field("IDR", min_length=3, max_length=3)
    expected_close: date | None = None
    initial_demand: str = Field("", max_length=20000)
    probability: int | None = Field(None, ge=0, le=100)
    channel_id: int | None = _optional_id()
    competitor_ids: list[ObjectId] = Field(default_factory=list, max_length=50)
    reason_id: int | None = _optional_id(description="Reason for contact.")
    marketing_event_id: int | None = _optional_id()
    lines: list[DealLineIn] = Field(default_factory=list, max_length=500)


class DealPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    owner_id: int | None = _optional_id()
    contact_id: int | None = _optional_id()
    amount: Money | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    expected_close: date | None = None
    initial_demand: str | None = Field(None, max_length=20000)
    probability: int | None = Field(None, ge=0, le=100)
    channel_id: int | None = _optional_id()
    competitor_ids: list[ObjectId] | None = Field(None, max_length=50)
    reason_id: int | None = _optional_id()
    marketing_event_id: int | None = _optional_id()
    lines: list[DealLineIn] | None = Field(
        None, max_length=500, description="Replaces all lines when given."
    )
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class DealFilters(Schema):
    kind_id: int | None = _optional_id()
    stage_id: int | None = _optional_id()
    status: DealStatus | None = None
    owner_id: int | None = _optional_id()
    client_id: int | None = _optional_id()
    search: str = Field("", max_length=200)
    segment_id: int | None = _optional_id(description="Clients of this segment.")


class MoveIn(Schema):
    stage_id: int = _id()
    override_reason: str = Field(
        "",
        max_length=2000,
        description="Move past unmet rules (needs crm.override_stage_rules).",
    )
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class WinIn(Schema):
    override_reason: str = Field("", max_length=2000)


class UnmetLineIn(Schema):
    line_id: int = _id()
    unmet_reason_id: int = _id()
    note: str = Field("", max_length=5000)


class LoseIn(Schema):
    loss_reason_id: int | None = _optional_id(description="Required.")
    competitor_id: int | None = _optional_id(description="Who won the deal.")
    note: str = Field("", max_length=10000)
    unmet_lines: list[UnmetLineIn] = Field(
        default_factory=list,
        max_length=500,
        description="Why the demand of some product lines was not met.",
    )


class ApproveIn(Schema):
    rule_id: int = _id()


class StageChangeOut(Schema):
    id: int
    from_stage: StageRef | None
    to_stage: StageRef
    at: datetime
    actor: UserRef | None
    override_reason: str


class ShareOut(Schema):
    won: int
    closed: int
    percent: Decimal | None


class ProbabilityOut(Schema):
    typed: int | None
    by_stage: ShareOut
    by_manager: ShareOut
    by_client: ShareOut
    by_kind: ShareOut
    average: Decimal | None


class InteractionOut(Schema):
    id: int
    kind: InteractionKind
    direction: str
    state: Literal["planned", "done", "cancelled"]
    client: ClientRef
    contact_ids: list[int]
    participant_ids: list[int]
    title: str
    subject_type: str
    subject_id: int | None
    planned_at: datetime | None
    start_at: datetime | None
    end_at: datetime | None
    place: str
    duration_seconds: int | None
    result: str
    channel_id: int | None
    reason_id: int | None
    marketing_event_id: int | None
    notes: str
    done_at: datetime | None
    version: int
    created_at: datetime

    @staticmethod
    def resolve_contact_ids(obj) -> list[int]:
        return [c.pk for c in obj.contacts.all()]

    @staticmethod
    def resolve_participant_ids(obj) -> list[int]:
        return [u.pk for u in obj.participants.all()]


class InteractionIn(Schema):
    kind: InteractionKind
    title: str = Field(min_length=1, max_length=200)
    client_id: int | None = _optional_id(description="Or give from_type/from_id.")
    from_type: str = Field(
        "",
        max_length=64,
        description="Create from a document: crm.deal or crm.interaction; the "
        "client and thread subject are inherited.",
    )
    from_id: int | None = _optional_id()
    state: Literal["planned", "done"] = "done"
    direction: Direction = ""
    contact_ids: list[ObjectId] = Field(default_factory=list, max_length=50)
    participant_ids: list[ObjectId] = Field(default_factory=list, max_length=50)
    planned_at: datetime | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    place: str = Field("", max_length=200)
    duration_seconds: int | None = Field(None, ge=0, le=86400 * 7)
    result: str = Field("", max_length=200)
    channel_id: int | None = _optional_id()
    reason_id: int | None = _optional_id()
    marketing_event_id: int | None = _optional_id()
    notes: str = Field("", max_length=20000)


class InteractionPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    direction: Direction | None = None
    contact_ids: list[ObjectId] | None = Field(None, max_length=50)
    participant_ids: list[ObjectId] | None = Field(None, max_length=50)
    planned_at: datetime | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    place: str | None = Field(None, max_length=200)
    duration_seconds: int | None = Field(None, ge=0, le=86400 * 7)
    result: str | None = Field(None, max_length=200)
    channel_id: int | None = _optional_id()
    reason_id: int | None = _optional_id()
    marketing_event_id: int | None = _optional_id()
    notes: str | None = Field(None, max_length=20000)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class CompleteIn(Schema):
    result: str | None = Field(None, max_length=200)
    duration_seconds: int | None = Field(None, ge=0, le=86400 * 7)
    notes: str | None = Field(None, max_length=20000)


class InteractionFilters(Schema):
    client_id: int | None = _optional_id()
    kind: InteractionKind | None = None
    state: Literal["planned", "done", "cancelled"] | None = None
    subject_type: str = Field("", max_length=64)
    subject_id: int | None = _optional_id()
    search: str = Field("", max_length=200)
    segment_id: int | None = _optional_id(description="Clients of this segment.")


class CompetitorOut(Schema):
    id: int
    name: str
    website: str
    notes: str


class CompetitorIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    website: str = Field("", max_length=200)
    notes: str = Field("", max_length=10000)


class NameIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class SearchFilter(Schema):
    search: str = Field("", max_length=200)


# ------------------------------------------------------------------ deal kinds


@router.get("/deal-kinds", response=list[DealKindOut])
@paginate
def list_deal_kinds(request):
    """Active deal kinds with their ordered stages and stage rules."""
    _perm(request, "crm.view_dealkind")
    return queries.deal_kinds()


@router.post("/deal-kinds", response={201: DealKindOut})
def post_deal_kind(request, payload: DealKindIn):
    """Create a deal kind with stages (in the order given) and their rules."""
    kind = services.deal_kind_create(
        actor=request.auth,
        name=payload.name,
        control_mode=payload.control_mode,
        stages=[s.model_dump() for s in payload.stages],
    )
    return Status(201, queries.deal_kind_get(kind_id=kind.pk))


@router.get("/deal-kinds/{kind_id}", response=DealKindOut)
def get_deal_kind(request, kind_id: int):
    _perm(request, "crm.view_dealkind")
    return queries.deal_kind_get(kind_id=kind_id)


@router.post("/deal-kinds/{kind_id}/stages", response={201: StageOut})
def post_deal_kind_stage(request, kind_id: int, payload: StageAddIn):
    """Add a stage (at the end, or at `position`, shifting later stages)."""
    stage = services.stage_create(
        actor=request.auth, kind_id=kind_id, **payload.model_dump()
    )
    return Status(201, stage)


@router.post("/deal-kinds/{kind_id}/stages/{stage_id}/rules", response={201: RuleOut})
def post_stage_rule(request, kind_id: int, stage_id: int, payload: RuleIn):
    """Add a rule to be met before a deal moves past the stage."""
    queries.deal_kind_get(kind_id=kind_id)
    if not Stage.objects.filter(pk=stage_id, kind_id=kind_id).exists():
        raise NotFound()
    rule = services.stage_rule_create(
        actor=request.auth, stage_id=stage_id, **payload.model_dump()
    )
    return Status(201, rule)


# ------------------------------------------------------------------ deals


@router.get("/deals", response=list[DealOut])
@paginate
def list_deals(request, filters: Query[DealFilters]):
    """Deals of clients the caller may see, newest first."""
    _perm(request, "crm.view_deal")
    data = filters.model_dump()
    data["status"] = data["status"] or ""
    return queries.deal_list(actor=request.auth, **data)


@router.post("/deals", response={201: DealDetailOut})
def post_deal(request, payload: DealIn):
    """Open a deal in the first stage of its kind (amount may be unknown)."""
    deal = services.deal_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.deal_get(actor=request.auth, deal_id=deal.pk))


@router.get("/deals/{deal_id}", response=DealDetailOut)
def get_deal(request, deal_id: int):
    _perm(request, "crm.view_deal")
    return queries.deal_get(actor=request.auth, deal_id=deal_id)


@router.patch("/deals/{deal_id}", response=DealDetailOut)
def patch_deal(request, deal_id: int, payload: DealPatch):
    """Change the fields given; a stale `version` answers 409."""
    services.deal_update(
        actor=request.auth, deal_id=deal_id, **payload.model_dump(exclude_unset=True)
    )
    return queries.deal_get(actor=request.auth, deal_id=deal_id)


@router.post("/deals/{deal_id}/move", response=DealOut)
def move_deal(request, deal_id: int, payload: MoveIn):
    """Move the deal to a stage. Forward moves check the rules of every
    stage left behind: unmet rules answer 409 `crm.stage_rules_unmet` with
    `fields.stage_rules` naming each; `override_reason` overrides them for
    holders of crm.override_stage_rules."""
    services.deal_move(actor=request.auth, deal_id=deal_id, **payload.model_dump())
    return queries.deal_get(actor=request.auth, deal_id=deal_id)


@router.post("/deals/{deal_id}/approve", response={201: None})
def approve_deal(request, deal_id: int, payload: ApproveIn):
    """Approve an approval rule of the deal (caller must hold the rule's role)."""
    services.deal_approve(actor=request.auth, deal_id=deal_id, rule_id=payload.rule_id)
    return Status(201, None)


@router.post("/deals/{deal_id}/win", response=DealOut)
def win_deal(request, deal_id: int, payload: WinIn):
    """Close as won; the rules of the remaining stages must hold."""
    services.deal_win(actor=request.auth, deal_id=deal_id, **payload.model_dump())
    return queries.deal_get(actor=request.auth, deal_id=deal_id)


@router.post("/deals/{deal_id}/lose", response=DealOut)
def lose_deal(request, deal_id: int, payload: LoseIn):
    """Close as lost: `loss_reason_id` is required (422 without)."""
    services.deal_lose(actor=request.auth, deal_id=deal_id, **payload.model_dump())
    return queries.deal_get(actor=request.auth, deal_id=deal_id)


@router.post("/deals/{deal_id}/reopen", response=DealOut)
def reopen_deal(request, deal_id: int):
    services.deal_reopen(actor=request.auth, deal_id=deal_id)
    return queries.deal_get(actor=request.auth, deal_id=deal_id)


@router.get("/deals/{deal_id}/stage-history", response=list[StageChangeOut])
def list_deal_stage_history(request, deal_id: int):
    """Every stage the deal entered, oldest first, with overrides."""
    _perm(request, "crm.view_deal")
    deal = queries.deal_get(actor=request.auth, deal_id=deal_id)
    return queries.deal_stage_history(deal=deal)


@router.get("/deals/{deal_id}/probability", response=ProbabilityOut)
def get_deal_probability(request, deal_id: int):
    """The typed probability and the one computed from closed deals."""
    _perm(request, "crm.view_deal")
    deal = queries.deal_get(actor=request.auth, deal_id=deal_id)
    return {"typed": deal.probability, **queries.deal_probability_computed(deal)}


# ------------------------------------------------------------------ interactions


@router.get("/interactions", response=list[InteractionOut])
@paginate
def list_interactions(request, filters: Query[InteractionFilters]):
    """Interactions with clients the caller may see, newest first; filter by
    `subject_type`+`subject_id` for a thread."""
    _perm(request, "crm.view_interaction")
    data = filters.model_dump()
    data["kind"] = data["kind"] or ""
    data["state"] = data["state"] or ""
    return queries.interaction_list(actor=request.auth, **data)


@router.post("/interactions", response={201: InteractionOut})
def post_interaction(request, payload: InteractionIn):
    """Record or plan an interaction; `from_type`/`from_id` inherit client
    and thread subject from a deal or another interaction."""
    interaction = services.interaction_create(
        actor=request.auth, **payload.model_dump()
    )
    return Status(
        201,
        queries.interaction_get(actor=request.auth, interaction_id=interaction.pk),
    )


@router.get("/interactions/{interaction_id}", response=InteractionOut)
def get_interaction(request, interaction_id: int):
    _perm(request, "crm.view_interaction")
    return queries.interaction_get(actor=request.auth, interaction_id=interaction_id)


@router.patch("/interactions/{interaction_id}", response=InteractionOut)
def patch_interaction(request, interaction_id: int, payload: InteractionPatch):
    services.interaction_update(
        actor=request.auth,
        interaction_id=interaction_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.interaction_get(actor=request.auth, interaction_id=interaction_id)


@router.post("/interactions/{interaction_id}/complete", response=InteractionOut)
def complete_interaction(request, interaction_id: int, payload: CompleteIn):
    """Mark a planned interaction done (409 unless it is planned)."""
    services.interaction_complete(
        actor=request.auth, interaction_id=interaction_id, **payload.model_dump()
    )
    return queries.interaction_get(actor=request.auth, interaction_id=interaction_id)


@router.post("/interactions/{interaction_id}/cancel", response=InteractionOut)
def cancel_interaction(request, interaction_id: int):
    services.interaction_cancel(actor=request.auth, interaction_id=interaction_id)
    return queries.interaction_get(actor=request.auth, interaction_id=interaction_id)


# ------------------------------------------------------------------ reference lists


@router.get("/competitors", response=list[CompetitorOut])
@paginate
def list_competitors(request, filters: Query[SearchFilter]):
    _perm(request, "crm.view_competitor")
    return queries.competitors(search=filters.search)


@router.post("/competitors", response={201: CompetitorOut})
def post_competitor(request, payload: CompetitorIn):
    return Status(
        201, services.competitor_create(actor=request.auth, **payload.model_dump())
    )


@router.get("/loss-reasons", response=list[NamedRef])
@paginate
def list_loss_reasons(request):
    _perm(request, "crm.view_lossreason")
    return queries.loss_reasons()


@router.post("/loss-reasons", response={201: NamedRef})
def post_loss_reason(request, payload: NameIn):
    return Status(
        201, services.loss_reason_create(actor=request.auth, name=payload.name)
    )


@router.get("/contact-reasons", response=list[NamedRef])
@paginate
def list_contact_reasons(request):
    _perm(request, "crm.view_contactreason")
    return queries.contact_reasons()


@router.post("/contact-reasons", response={201: NamedRef})
def post_contact_reason(request, payload: NameIn):
    return Status(
        201, services.contact_reason_create(actor=request.auth, name=payload.name)
    )


# ------------------------------------------------------------------ claims (CRM-7)

ClaimState = Literal["registered", "investigating", "decision", "closed"]
ClaimDecision = Literal["refund", "replacement", "repair", "rejected"]


class ClaimOut(Schema):
    id: int
    number: str = Field(examples=["CLM-2026-0001"])
    client: ClientRef
    deal_id: int | None
    interaction_id: int | None
    product_ref: str
    channel_id: int | None
    reason_id: int | None
    marketing_event_id: int | None
    category: NamedRef
    description: str
    responsible: UserRef
    deadline: date
    state: ClaimState
    decision: ClaimDecision | Literal[""]
    outcome: str
    overdue: bool = Field(description="Open and past its deadline.")
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_overdue


class ClaimIn(Schema):
    client_id: int = _id()
    category_id: int = _id()
    description: str = Field(min_length=1, max_length=20000)
    deadline: date = Field(description="Today or later.")
    responsible_id: int | None = _optional_id(description="Default: the caller.")
    deal_id: int | None = _optional_id(description="A deal of the same client.")
    interaction_id: int | None = _optional_id(
        description="An interaction with the same client."
    )
    product_ref: str = Field("", max_length=200, description="Free text for now.")
    channel_id: int | None = _optional_id()
    reason_id: int | None = _optional_id(description="Reason for contact.")
    marketing_event_id: int | None = _optional_id()


class ClaimPatch(Schema):
    category_id: int | None = _optional_id()
    description: str | None = Field(None, min_length=1, max_length=20000)
    deadline: date | None = None
    responsible_id: int | None = _optional_id()
    deal_id: int | None = _optional_id()
    interaction_id: int | None = _optional_id()
    product_ref: str | None = Field(None, max_length=200)
    channel_id: int | None = _optional_id()
    reason_id: int | None = _optional_id()
    marketing_event_id: int | None = _optional_id()
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class ClaimTransitionIn(Schema):
    state: ClaimState
    decision: ClaimDecision | None = Field(
        None, description="Required when moving to `decision`."
    )
    outcome: str = Field("", max_length=20000, description="Required to close.")
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class ClaimFilters(Schema):
    state: ClaimState | None = None
    category_id: int | None = _optional_id()
    responsible_id: int | None = _optional_id()
    client_id: int | None = _optional_id()
    overdue: bool | None = None
    search: str = Field("", max_length=200)
    segment_id: int | None = _optional_id(description="Clients of this segment.")


class ClaimStatsFilters(Schema):
    date_from: date
    date_to: date


class CountByCategory(Schema):
    category_id: int
    name: str
    count: int


class CountByResponsible(Schema):
    responsible_id: int
    name: str
    count: int


class CountByValue(Schema):
    value: str
    count: int


class CountByMonth(Schema):
    month: date
    count: int


class ClaimStatsOut(Schema):
    total: int
    overdue: int
    avg_days_to_close: float | None
    by_category: list[CountByCategory]
    by_responsible: list[CountByResponsible]
    by_decision: list[CountByValue]
    by_state: list[CountByValue]
    by_product: list[CountByValue] = Field(description='Free text; "" = none.')
    by_month: list[CountByMonth]


@router.get("/claims/stats", response=ClaimStatsOut)
def get_claim_stats(request, filters: Query[ClaimStatsFilters]):
    """Claims registered in the period: counts by category, responsible,
    decision ("" = none yet), state and month; average days to close."""
    _perm(request, "crm.view_claim")
    if filters.date_to < filters.date_from:
        from django.utils.translation import gettext as _

        from satu.core.errors import ValidationFailed

        raise ValidationFailed(
            fields={"date_to": [_("The period ends before it starts.")]}
        )
    stats = queries.claim_stats(actor=request.auth, **filters.model_dump())
    return {
        **stats,
        "by_category": [
            {
                "category_id": r["category_id"],
                "name": r["category__name"],
                "count": r["count"],
            }
            for r in stats["by_category"]
        ],
        "by_decision": [
            {"value": r["decision"], "count": r["count"]} for r in stats["by_decision"]
        ],
        "by_state": [
            {"value": r["state"], "count": r["count"]} for r in stats["by_state"]
        ],
        "by_product": [
            {"value": r["product_ref"], "count": r["count"]}
            for r in stats["by_product"]
        ],
    }


@router.get("/claims", response=list[ClaimOut])
@paginate
def list_claims(request, filters: Query[ClaimFilters]):
    """Claims of clients the caller may see (or is responsible for), newest first."""
    _perm(request, "crm.view_claim")
    data = filters.model_dump()
    data["state"] = data["state"] or ""
    return queries.claim_list(actor=request.auth, **data)


@router.post("/claims", response={201: ClaimOut})
def post_claim(request, payload: ClaimIn):
    """Register a claim; a deadline in the past answers 422 with `fields.deadline`."""
    claim = services.claim_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.claim_get(actor=request.auth, claim_id=claim.pk))


@router.get("/claims/{claim_id}", response=ClaimOut)
def get_claim(request, claim_id: int):
    _perm(request, "crm.view_claim")
    return queries.claim_get(actor=request.auth, claim_id=claim_id)


@router.patch("/claims/{claim_id}", response=ClaimOut)
def patch_claim(request, claim_id: int, payload: ClaimPatch):
    """Change the fields given; a stale `version` answers 409."""
    services.claim_update(
        actor=request.auth, claim_id=claim_id, **payload.model_dump(exclude_unset=True)
    )
    return queries.claim_get(actor=request.auth, claim_id=claim_id)


@router.post("/claims/{claim_id}/transition", response=ClaimOut)
def transition_claim(request, claim_id: int, payload: ClaimTransitionIn):
    """Move the claim to `state`. An illegal move answers 409
    `crm.claim_bad_transition` naming the allowed states; `decision` is
    required for "decision", `outcome` to close (422 without)."""
    data = payload.model_dump()
    data["decision"] = data["decision"] or ""
    services.claim_transition(actor=request.auth, claim_id=claim_id, **data)
    return queries.claim_get(actor=request.auth, claim_id=claim_id)


@router.get("/claim-categories", response=list[NamedRef])
@paginate
def list_claim_categories(request):
    _perm(request, "crm.view_claimcategory")
    return queries.claim_categories()


@router.post("/claim-categories", response={201: NamedRef})
def post_claim_category(request, payload: NameIn):
    return Status(
        201, services.claim_category_create(actor=request.auth, name=payload.name)
    )


# ------------------------------------------------------------------ tasks (CRM-5)

TaskState = Literal["open", "done", "cancelled"]


class DealRef(Schema):
    id: int
    title: str


class TaskOut(Schema):
    id: int
    title: str
    description: str
    client: ClientRef | None
    deal: DealRef | None
    responsible: UserRef
    due_at: datetime
    remind_at: datetime | None
    state: TaskState
    overdue: bool
    done_at: datetime | None
    reminder_sent_at: datetime | None
    created_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_overdue


class TaskIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    client_id: int | None = _optional_id()
    deal_id: int | None = _optional_id(description="Without client_id: its client.")
    responsible_id: int | None = _optional_id(description="Default: the caller.")
    due_at: datetime
    remind_at: datetime | None = None


class TaskPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)
    client_id: int | None = _optional_id()
    deal_id: int | None = _optional_id()
    responsible_id: int | None = _optional_id()
    due_at: datetime | None = None
    remind_at: datetime | None = None
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class TaskFilters(Schema):
    state: TaskState | None = None
    responsible_id: int | None = _optional_id()
    client_id: int | None = _optional_id()
    overdue: bool | None = Field(None, description="Open and past due (or not).")
    segment_id: int | None = _optional_id(description="Clients of this segment.")


@router.get("/tasks", response=list[TaskOut])
@paginate
def list_tasks(request, filters: Query[TaskFilters]):
    """Tasks the caller may see, earliest due first."""
    _perm(request, "crm.view_task")
    data = filters.model_dump()
    data["state"] = data["state"] or ""
    return queries.task_list(actor=request.auth, **data)


@router.post("/tasks", response={201: TaskOut})
def post_task(request, payload: TaskIn):
    task = services.task_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.task_get(actor=request.auth, task_id=task.pk))


@router.get("/tasks/{task_id}", response=TaskOut)
def get_task(request, task_id: int):
    _perm(request, "crm.view_task")
    return queries.task_get(actor=request.auth, task_id=task_id)


@router.patch("/tasks/{task_id}", response=TaskOut)
def patch_task(request, task_id: int, payload: TaskPatch):
    """Change an open task; `version` guards against lost updates (409)."""
    services.task_update(
        actor=request.auth, task_id=task_id, **payload.model_dump(exclude_unset=True)
    )
    return queries.task_get(actor=request.auth, task_id=task_id)


@router.post("/tasks/{task_id}/complete", response=TaskOut)
def complete_task(request, task_id: int):
    """Mark an open task done (409 otherwise)."""
    services.task_complete(actor=request.auth, task_id=task_id)
    return queries.task_get(actor=request.auth, task_id=task_id)


@router.post("/tasks/{task_id}/cancel", response=TaskOut)
def cancel_task(request, task_id: int):
    services.task_cancel(actor=request.auth, task_id=task_id)
    return queries.task_get(actor=request.auth, task_id=task_id)


# ------------------------------------ leads, marketing, ROI (CRM-3/6, P6)

EventKind = Literal["exhibition", "seminar", "webinar", "ad_campaign", "other"]
LeadSource = Literal["web_form", "api", "email", "import", "manual"]
LeadState = Literal["new", "qualified", "disqualified"]
ParticipantStatus = Literal["registered", "attended", "cancelled"]


class MarketingEventOut(Schema):
    id: int
    name: str
    kind: EventKind
    channel_id: int | None
    starts_on: date
    ends_on: date
    budget: Decimal | None
    currency: str
    responsible: UserRef
    description: str
    cost_total: Decimal | None = Field(description="Sum of its cost lines.")
    participant_count: int
    version: int
    created_at: datetime

    @staticmethod
    def resolve_cost_total(obj) -> Decimal | None:
        total = getattr(obj, "cost_total", None)
        return None if total is None else Decimal(total).quantize(Decimal("0.0001"))


class MarketingEventIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: EventKind
    starts_on: date
    ends_on: date | None = Field(None, description="Default: starts_on.")
    channel_id: int | None = _optional_id()
    budget: Decimal | None = Field(None, max_digits=20, decimal_places=4)
    currency: str = Field("IDR", min_length=3, max_length=3)
    responsible_id: int | None = _optional_id(description="Default: the caller.")
    description: str = Field("", max_length=20000)


class MarketingEventPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: EventKind | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    channel_id: int | None = _optional_id()
    budget: Decimal | None = Field(None, max_digits=20, decimal_places=4)
    currency: str | None = Field(None, min_length=3, max_length=3)
    responsible_id: int | None = _optional_id()
    description: str | None = Field(None, max_length=20000)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class EventFilters(Schema):
    search: str = Field("", max_length=200)
    kind: EventKind | None = None
    date_from: date | None = None
    date_to: date | None = None


class ParticipantOut(Schema):
    id: int
    client_id: int | None
    contact_id: int | None
    status: ParticipantStatus


class ParticipantIn(Schema):
    client_id: int | None = _optional_id()
    contact_id: int | None = _optional_id()
    status: ParticipantStatus = "registered"


class ParticipantStatusIn(Schema):
    status: ParticipantStatus


class MarketingCostOut(Schema):
    id: int
    event_id: int | None
    channel_id: int | None
    date: date
    description: str
    amount: Decimal
    currency: str


class MarketingCostIn(Schema):
    event_id: int | None = _optional_id(description="Either an event...")
    channel_id: int | None = _optional_id(description="...or a channel.")
    date: date
    amount: Decimal = Field(max_digits=20, decimal_places=4)
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="Default: the event's."
    )
    description: str = Field("", max_length=200)


class CostFilters(Schema):
    event_id: int | None = _optional_id()
    channel_id: int | None = _optional_id()
    date_from: date | None = None
    date_to: date | None = None


class RoiFilters(Schema):
    model: Literal["first", "last"] = "first"
    date_from: date
    date_to: date
    currency: str = Field("IDR", min_length=3, max_length=3)


class RoiLine(Schema):
    cost: Decimal
    revenue: Decimal
    roi: Decimal | None = Field(description="(revenue − cost) / cost; null: no cost.")


class RoiEvent(RoiLine):
    event_id: int
    name: str
    kind: EventKind


class RoiChannel(RoiLine):
    channel_id: int
    name: str
    parent_id: int | None
    depth: int


class RoiOut(Schema):
    model: str
    currency: str
    date_from: date
    date_to: date
    events: list[RoiEvent]
    channels: list[RoiChannel] = Field(description="A channel includes sub-channels.")
    totals: RoiLine
    unattributed: Decimal = Field(description="Revenue with no channel or event.")


class LeadOut(Schema):
    id: int
    number: str
    company_name: str
    person_name: str
    email: str
    phone: str = Field(description="E.164.")
    message: str
    source: LeadSource
    channel_id: int | None
    marketing_event_id: int | None
    reason_id: int | None
    form_id: int | None
    owner: UserRef
    state: LeadState
    disqualify_reason: str
    client: ClientRef | None
    deal_id: int | None
    qualified_at: datetime | None
    version: int
    created_at: datetime


class LeadIn(Schema):
    company_name: str = Field("", max_length=200)
    person_name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=64)
    message: str = Field("", max_length=20000)
    source: LeadSource = "api"
    channel_id: int | None = _optional_id()
    marketing_event_id: int | None = _optional_id()
    reason_id: int | None = _optional_id()
    owner_id: int | None = _optional_id(description="Default: the caller.")
    number: str = Field("", max_length=40, description="External number.")


class LeadPatch(Schema):
    company_name: str | None = Field(None, max_length=200)
    person_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=64)
    message: str | None = Field(None, max_length=20000)
    channel_id: int | None = _optional_id()
    marketing_event_id: int | None = _optional_id()
    reason_id: int | None = _optional_id()
    owner_id: int | None = _optional_id()
    number: str | None = Field(None, max_length=40)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class LeadFilters(Schema):
    search: str = Field("", max_length=200)
    state: LeadState | None = None
    source: LeadSource | None = None
    owner_id: int | None = _optional_id()
    channel_id: int | None = _optional_id()


class QualifyIn(Schema):
    client_id: int | None = _optional_id(description="An existing client.")
    client_name: str = Field("", max_length=255, description="Default: the lead's.")
    create_anyway: bool = Field(
        False, description="Create a new client despite possible duplicates."
    )
    create_deal: bool = False
    deal_kind_id: int | None = _optional_id()
    deal_title: str = Field("", max_length=200)
    amount: Money | None = None
    currency: str = Field("IDR", min_length=3, max_length=3)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class DisqualifyIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class LeadFormOut(Schema):
    id: int
    key: str
    name: str
    channel_id: int | None
    event_id: int | None
    owner_id: int | None
    is_active: bool


class LeadFormIn(Schema):
    key: str = Field(min_length=2, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    channel_id: int | None = _optional_id()
    marketing_event_id: int | None = _optional_id()
    owner_id: int | None = _optional_id(description="Default: the caller.")
    is_active: bool = True


class UnmetIn(Schema):
    unmet_reason_id: int = _id()
    note: str = Field("", max_length=5000)
    dropped: bool = True


class TouchOut(Schema):
    id: int
    channel_id: int | None
    event_id: int | None
    reason_id: int | None
    source_type: str
    source_id: int
    at: datetime


@router.get("/marketing-events", response=list[MarketingEventOut])
@paginate
def list_marketing_events(request, filters: Query[EventFilters]):
    """Marketing events, latest first, with their cost and participants."""
    _perm(request, "crm.view_marketingevent")
    data = filters.model_dump()
    data["kind"] = data["kind"] or ""
    return queries.marketing_event_list(**data)


@router.post("/marketing-events", response={201: MarketingEventOut})
def post_marketing_event(request, payload: MarketingEventIn):
    """Plan an event; an end before the start answers 422 (`fields.ends_on`)."""
    event = services.marketing_event_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.marketing_event_get(event_id=event.pk))


@router.get("/marketing-events/{event_id}", response=MarketingEventOut)
def get_marketing_event(request, event_id: int):
    _perm(request, "crm.view_marketingevent")
    return queries.marketing_event_get(event_id=event_id)


@router.patch("/marketing-events/{event_id}", response=MarketingEventOut)
def patch_marketing_event(request, event_id: int, payload: MarketingEventPatch):
    services.marketing_event_update(
        actor=request.auth, event_id=event_id, **payload.model_dump(exclude_unset=True)
    )
    return queries.marketing_event_get(event_id=event_id)


@router.get("/marketing-events/{event_id}/participants", response=list[ParticipantOut])
def list_event_participants(request, event_id: int):
    _perm(request, "crm.view_marketingevent")
    event = queries.marketing_event_get(event_id=event_id)
    return queries.event_participants(event=event)


@router.post(
    "/marketing-events/{event_id}/participants", response={201: ParticipantOut}
)
def post_event_participant(request, event_id: int, payload: ParticipantIn):
    """Register a client and/or contact; records a touch of the client."""
    return Status(
        201,
        services.event_participant_add(
            actor=request.auth, event_id=event_id, **payload.model_dump()
        ),
    )


@router.post(
    "/marketing-events/{event_id}/participants/{participant_id}/status",
    response=ParticipantOut,
)
def post_participant_status(
    request, event_id: int, participant_id: int, payload: ParticipantStatusIn
):
    participant = queries.marketing_event_get(event_id=event_id).participants.filter(
        pk=participant_id
    )
    if not participant.exists():
        raise NotFound()
    return services.event_participant_set_status(
        actor=request.auth, participant_id=participant_id, status=payload.status
    )


@router.get("/marketing-costs", response=list[MarketingCostOut])
@paginate
def list_marketing_costs(request, filters: Query[CostFilters]):
    _perm(request, "crm.view_marketingcost")
    return queries.marketing_cost_list(**filters.model_dump())


@router.post("/marketing-costs", response={201: MarketingCostOut})
def post_marketing_cost(request, payload: MarketingCostIn):
    """A cost line of an event or of a channel; a negative amount answers 422."""
    return Status(
        201, services.marketing_cost_create(actor=request.auth, **payload.model_dump())
    )


@router.delete("/marketing-costs/{cost_id}", response={204: None})
def delete_marketing_cost(request, cost_id: int):
    services.marketing_cost_delete(actor=request.auth, cost_id=cost_id)
    return Status(204, None)


@router.get("/marketing/roi", response=RoiOut)
def get_marketing_roi(request, filters: Query[RoiFilters]):
    """ROI per event and per channel (sub-channels included) in the period,
    first- or last-touch. Revenue: won deals (and other registered sources)
    in `currency`; cost: cost lines in `currency`."""
    _perm(request, "crm.view_marketingcost")
    if filters.date_to < filters.date_from:
        from django.utils.translation import gettext as _

        from satu.core.errors import ValidationFailed

        raise ValidationFailed(
            fields={"date_to": [_("The period ends before it starts.")]}
        )
    data = filters.model_dump()
    data["currency"] = data["currency"].upper()
    return queries.marketing_roi(**data)


@router.get("/marketing/touches", response=list[TouchOut])
def list_client_touches(request, client_id: ObjectId):
    """The client's marketing touches, the first touch first."""
    from satu.parties import queries as parties_queries

    _perm(request, "crm.view_marketingevent")
    client = parties_queries.client_get(actor=request.auth, client_id=client_id)
    return queries.client_touches(client=client)


@router.get("/leads", response=list[LeadOut])
@paginate
def list_leads(request, filters: Query[LeadFilters]):
    """Leads the caller may see (own, or all for marketers/heads), newest first."""
    _perm(request, "crm.view_lead")
    data = filters.model_dump()
    data["state"] = data["state"] or ""
    data["source"] = data["source"] or ""
    return queries.lead_list(actor=request.auth, **data)


@router.post("/leads", response={201: LeadOut})
def post_lead(request, payload: LeadIn):
    """Register a lead; without a name, company, email or phone it answers 422."""
    lead = services.lead_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.lead_get(actor=request.auth, lead_id=lead.pk))


class LeadImportErrorOut(Schema):
    row: int = Field(description="Spreadsheet row; the header is row 1.")
    field: str
    message: str


class LeadImportOut(Schema):
    created: int


class LeadImportRejectedOut(Schema):
    code: Literal["crm.lead_import_rejected"]
    detail: str
    fields: dict[str, list[str]]
    created: int = Field(description="Always 0: all rows or none.")
    invalid_rows: int
    errors: list[LeadImportErrorOut]


@router.post(
    "/leads/import",
    response={201: LeadImportOut, 422: LeadImportRejectedOut},
)
def import_leads(request, file: File[UploadedFile]):
    """Import leads from a CSV (UTF-8) or XLSX file, as the web screen
    /leads/import/ does (same service): columns company, name, email, phone,
    message, channel (by name), number, matched by header; source `import`,
    owner the caller. All rows or none: 201 `{created}` when every row is
    valid; otherwise 422 `crm.lead_import_rejected` with `invalid_rows` and
    `errors` ([{row, field, message}]) and nothing created. An unreadable,
    empty or header-only file, a wrong file type, or one without a company,
    name, email or phone column answers 422 `import.invalid_file` (message
    in `detail` and `fields.file`). Needs `crm.view_lead` and `crm.add_lead`."""
    from satu.parties.imports import read_upload

    _perm(request, "crm.view_lead")
    _perm(request, "crm.add_lead")  # before reading the file; the service checks too
    result = services.lead_import(
        actor=request.auth, data=read_upload(file), filename=file.name or ""
    )
    if result["errors"]:
        raise LeadImportRejected(
            created=0,
            invalid_rows=len(result["errors"]),
            errors=[
                {"row": e["row"], "field": field, "message": str(message)}
                for e in result["errors"]
                for field, messages in e["fields"].items()
                for message in messages
            ],
        )
    return Status(201, {"created": result["created"]})


@router.get("/leads/{lead_id}", response=LeadOut)
def get_lead(request, lead_id: int):
    _perm(request, "crm.view_lead")
    return queries.lead_get(actor=request.auth, lead_id=lead_id)


@router.patch("/leads/{lead_id}", response=LeadOut)
def patch_lead(request, lead_id: int, payload: LeadPatch):
    services.lead_update(
        actor=request.auth, lead_id=lead_id, **payload.model_dump(exclude_unset=True)
    )
    return queries.lead_get(actor=request.auth, lead_id=lead_id)


@router.post("/leads/{lead_id}/qualify", response=LeadOut)
def qualify_lead(request, lead_id: int, payload: QualifyIn):
    """Qualify into an existing client (`client_id`) or a new one (409
    `parties.possible_duplicate` with `candidates` unless `create_anyway`),
    optionally with a deal. A second qualification answers 409
    `crm.lead_not_new`."""
    services.lead_qualify(actor=request.auth, lead_id=lead_id, **payload.model_dump())
    return queries.lead_get(actor=request.auth, lead_id=lead_id)


@router.post("/leads/{lead_id}/disqualify", response=LeadOut)
def disqualify_lead(request, lead_id: int, payload: DisqualifyIn):
    services.lead_disqualify(
        actor=request.auth, lead_id=lead_id, **payload.model_dump()
    )
    return queries.lead_get(actor=request.auth, lead_id=lead_id)


@router.get("/lead-forms", response=list[LeadFormOut])
@paginate
def list_lead_forms(request):
    _perm(request, "crm.view_leadform")
    return queries.lead_forms()


@router.post("/lead-forms", response={201: LeadFormOut})
def post_lead_form(request, payload: LeadFormIn):
    """A public form at /public/lead-form/<key>/ creating leads."""
    return Status(
        201, services.lead_form_create(actor=request.auth, **payload.model_dump())
    )


@router.post("/deals/{deal_id}/lines/{line_id}/unmet", response=DealLineOut)
def post_deal_line_unmet(request, deal_id: int, line_id: int, payload: UnmetIn):
    """Say why a line's demand was not met (dropped line or lost deal)."""
    return services.deal_line_mark_unmet(
        actor=request.auth, deal_id=deal_id, line_id=line_id, **payload.model_dump()
    )


@router.get("/unmet-demand-reasons", response=list[NamedRef])
@paginate
def list_unmet_demand_reasons(request):
    _perm(request, "crm.view_unmetdemandreason")
    return queries.unmet_demand_reasons()


@router.post("/unmet-demand-reasons", response={201: NamedRef})
def post_unmet_demand_reason(request, payload: NameIn):
    return Status(
        201,
        services.unmet_demand_reason_create(actor=request.auth, name=payload.name),
    )
