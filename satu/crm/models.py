"""Interactions, deals with stages and rules, competitors. See docs/domains/crm.md."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from satu.core.models import TimeStampedModel


class ContactReason(TimeStampedModel):
    """Why the client contacted us (configurable list)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("reason for contact")

    def __str__(self) -> str:
        return self.name


class LossReason(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("loss reason")

    def __str__(self) -> str:
        return self.name


class Competitor(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("competitor")

    def __str__(self) -> str:
        return self.name


class DealKind(TimeStampedModel):
    class ControlMode(models.TextChoices):
        MANUAL_STAGES = "manual_stages", _("Manual stages")
        STATUS_ONLY = "status_only", _("Status only")
        PROCESS = "process", _("Driven by a process")

    name = models.CharField(_("name"), max_length=100, unique=True)
    control_mode = models.CharField(
        _("control mode"),
        max_length=20,
        choices=ControlMode.choices,
        default=ControlMode.MANUAL_STAGES,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("deal kind")

    def __str__(self) -> str:
        return self.name

    @property
    def has_stages(self) -> bool:
        return self.control_mode != self.ControlMode.STATUS_ONLY


class Stage(models.Model):
    kind = models.ForeignKey(DealKind, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(pgettext_lazy("sort order", "position"))
    probability = models.PositiveSmallIntegerField(
        _("default probability, %"), default=0
    )

    class Meta:
        ordering = ["kind", "position", "id"]
        verbose_name = _("stage")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "position"], name="crm_stage_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StageRule(models.Model):
    """What must be done at `stage` before the deal may move past it."""

    class Type(models.TextChoices):
        REQUIRED_FIELD = "required_field", _("Field filled in")
        INTERACTION = "interaction_since_entered", _("Interaction since entering")
        APPROVAL = "approval", _("Approval by a role")
        DOCUMENT = "document_attached", _("Document attached since entering")

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="rules")
    rule_type = models.CharField(_("rule"), max_length=32, choices=Type.choices)
    field_name = models.CharField(_("field"), max_length=40, blank=True)
    interaction_kind = models.CharField(
        _("interaction kind"), max_length=10, blank=True
    )
    role_code = models.CharField(_("role"), max_length=40, blank=True)

    class Meta:
        ordering = ["stage", "id"]
        verbose_name = _("stage rule")

    def __str__(self) -> str:
        return f"{self.stage}: {self.rule_type}"


class Deal(TimeStampedModel):
    class Status(models.TextChoices):
        IN_WORK = "in_work", _("In work")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    client = models.ForeignKey(
        "parties.Client",
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("client"),
    )
    kind = models.ForeignKey(
        DealKind, on_delete=models.PROTECT, related_name="deals", verbose_name=_("kind")
    )
    stage = models.ForeignKey(
        Stage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("stage"),
    )
    stage_entered_at = models.DateTimeField(default=timezone.now)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="crm_deals",
        verbose_name=_("manager"),
    )
    contact = models.ForeignKey(
        "parties.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_deals",
        verbose_name=_("contact person"),
    )
    amount = models.DecimalField(
        _("amount"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    initial_demand = models.TextField(_("initial demand"), blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability, %"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.IN_WORK
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    loss_reason = models.ForeignKey(
        LossReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("loss reason"),
    )
    lost_at_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    loss_note = models.TextField(_("loss note"), blank=True)
    competitors = models.ManyToManyField(
        Competitor, blank=True, related_name="deals", verbose_name=_("competitors")
    )
    won_to = models.ForeignKey(
        Competitor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals_won",
        verbose_name=_("lost to"),
    )
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_deals",
        verbose_name=_("channel"),
    )
    reason = models.ForeignKey(
        ContactReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("reason for contact"),
    )
    marketing_event = models.ForeignKey(
        "crm.MarketingEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("marketing event"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        permissions = [
            ("override_stage_rules", _("Can move deals past unmet stage rules")),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "stage"]),
            models.Index(fields=["client", "status"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self) -> str:
        return self.title


class DealStageChange(models.Model):
    """One stage move; the row with no `from_stage` is the deal's first stage."""

    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["to_stage", "deal"])]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class DealApproval(models.Model):
    """An approval rule met: someone in the rule's role approved the deal."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="approvals")
    rule = models.ForeignKey(StageRule, on_delete=models.CASCADE, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.deal_id} rule {self.rule_id} by {self.approved_by_id}"


class Interaction(TimeStampedModel):
    """A meeting, call, SMS, email or planned contact with a client (CRM-2).

    `subject_type`/`subject_id` name the document the thread is about
    ("crm.deal", "crm.interaction", later "sales.order")."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Phone call")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        PLANNED = "planned", _("Planned interaction")

    class Direction(models.TextChoices):
        INCOMING = "incoming", _("Incoming")
        OUTGOING = "outgoing", _("Outgoing")

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, blank=True
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.DONE
    )
    client = models.ForeignKey(
        "parties.Client",
        on_delete=models.PROTECT,
        related_name="interactions",
        verbose_name=_("client"),
    )
    contacts = models.ManyToManyField(
        "parties.Contact",
        blank=True,
        related_name="crm_interactions",
        verbose_name=_("contact persons"),
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="crm_interactions",
        verbose_name=_("participants"),
    )
    title = models.CharField(_("subject"), max_length=200)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    planned_at = models.DateTimeField(_("planned for"), null=True, blank=True)
    start_at = models.DateTimeField(_("start"), null=True, blank=True)
    end_at = models.DateTimeField(_("end"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    duration_seconds = models.PositiveIntegerField(
        _("duration, seconds"), null=True, blank=True
    )
    result = models.CharField(_("result"), max_length=200, blank=True)
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_interactions",
        verbose_name=_("channel"),
    )
    reason = models.ForeignKey(
        ContactReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
        verbose_name=_("reason for contact"),
    )
    marketing_event = models.ForeignKey(
        "crm.MarketingEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
        verbose_name=_("marketing event"),
    )
    notes = models.TextField(_("notes"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "kind", "done_at"]),
            models.Index(fields=["client", "-created_at"]),
            models.Index(fields=["state", "planned_at"]),
        ]

    def __str__(self) -> str:
        return self.title


# ================================================================ claims (CRM-7)


class ClaimCategory(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("claim category")
        verbose_name_plural = _("claim categories")

    def __str__(self) -> str:
        return self.name


class Claim(TimeStampedModel):
    """A client's complaint, investigated to a decision and closed (CRM-7)."""

    class State(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        INVESTIGATING = "investigating", _("Investigating")
        DECISION = "decision", _("Decision")
        CLOSED = "closed", _("Closed")

    class Decision(models.TextChoices):
        REFUND = "refund", _("Refund")
        REPLACEMENT = "replacement", _("Replacement")
        REPAIR = "repair", _("Repair")
        REJECTED = "rejected", _("Rejected")

    number = models.CharField(_("number"), max_length=30, unique=True)
    client = models.ForeignKey(
        "parties.Client",
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("client"),
    )
    deal = models.ForeignKey(
        Deal,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("deal"),
    )
    interaction = models.ForeignKey(
        Interaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("interaction"),
    )
    product_ref = models.CharField(_("product"), max_length=200, blank=True)
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_claims",
        verbose_name=_("channel"),
    )
    reason = models.ForeignKey(
        ContactReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("reason for contact"),
    )
    marketing_event = models.ForeignKey(
        "crm.MarketingEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("marketing event"),
    )
    category = models.ForeignKey(
        ClaimCategory,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("category"),
    )
    description = models.TextField(_("description"))
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="crm_claims",
        verbose_name=_("responsible"),
    )
    deadline = models.DateField(_("deadline"))
    state = models.CharField(
        _("state"), max_length=15, choices=State.choices, default=State.REGISTERED
    )
    decision = models.CharField(
        _("decision"), max_length=15, choices=Decision.choices, blank=True
    )
    outcome = models.TextField(_("outcome notes"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        indexes = [
            models.Index(fields=["state", "deadline"]),
            models.Index(fields=["client", "state"]),
            models.Index(fields=["responsible", "state"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_overdue(self) -> bool:
        return self.state != self.State.CLOSED and self.deadline < timezone.localdate()


# ================================================================ tasks (CRM-5)


class Task(TimeStampedModel):
    """A to-do for a user, optionally about a client and one of its deals."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    client = models.ForeignKey(
        "parties.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_tasks",
        verbose_name=_("client"),
    )
    deal = models.ForeignKey(
        Deal,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        verbose_name=_("deal"),
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="crm_tasks",
        verbose_name=_("responsible"),
    )
    due_at = models.DateTimeField(_("due"))
    remind_at = models.DateTimeField(_("reminder"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN
    )
    done_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        permissions = [("view_all_tasks", _("Can see the tasks of all users"))]
        indexes = [
            models.Index(fields=["responsible", "state", "due_at"]),
            models.Index(fields=["state", "remind_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.state == self.State.OPEN and self.due_at < timezone.now()


class CalendarFeed(models.Model):
    """A secret token giving read access to one user's iCalendar feed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="crm_calendar_feeds",
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar link")

    def __str__(self) -> str:
        return f"{self.user} calendar"


# ================================================ marketing, attribution, leads
# (CRM-3, CRM-4 lines, CRM-6 / P6). See docs/domains/crm.md.

from satu.core.fields import AmountField, QuantityField  # noqa: E402


class MarketingEvent(TimeStampedModel):
    """An exhibition, seminar, webinar or ad campaign we pay for (CRM-6)."""

    class Kind(models.TextChoices):
        EXHIBITION = "exhibition", _("Exhibition")
        SEMINAR = "seminar", _("Seminar")
        WEBINAR = "webinar", _("Webinar")
        AD_CAMPAIGN = "ad_campaign", _("Ad campaign")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_marketing_events",
        verbose_name=_("channel"),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    budget = AmountField(_("planned budget"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="crm_marketing_events",
        verbose_name=_("responsible"),
    )
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("marketing event")
        verbose_name_plural = _("marketing events")
        indexes = [models.Index(fields=["starts_on"])]

    def __str__(self) -> str:
        return self.name


class MarketingCost(TimeStampedModel):
    """What an event or a channel cost on a day (one of the two is set)."""

    event = models.ForeignKey(
        MarketingEvent,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="costs",
        verbose_name=_("marketing event"),
    )
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_marketing_costs",
        verbose_name=_("channel"),
    )
    date = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    amount = AmountField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("marketing cost")
        verbose_name_plural = _("marketing costs")
        indexes = [models.Index(fields=["date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event__isnull=False)
                | models.Q(channel__isnull=False),
                name="crm_marketingcost_event_or_channel",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="crm_marketingcost_amount_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} {self.currency}"


class EventParticipant(TimeStampedModel):
    """A client and/or contact person registered for a marketing event."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        ATTENDED = "attended", _("Attended")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(
        MarketingEvent, on_delete=models.CASCADE, related_name="participants"
    )
    client = models.ForeignKey(
        "parties.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="crm_event_participations",
        verbose_name=_("client"),
    )
    contact = models.ForeignKey(
        "parties.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="crm_event_participations",
        verbose_name=_("contact person"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("event participant")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(client__isnull=False)
                | models.Q(contact__isnull=False),
                name="crm_eventparticipant_client_or_contact",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.client_id}/{self.contact_id}"


class Touch(models.Model):
    """One marketing touch of a client: a record (interaction, lead, deal,
    claim, event participation) with its channel/event/reason, appended by
    the services. The earliest is the client's first touch (P6)."""

    client = models.ForeignKey(
        "parties.Client", on_delete=models.CASCADE, related_name="crm_touches"
    )
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_touches",
    )
    event = models.ForeignKey(
        MarketingEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="touches",
    )
    reason = models.ForeignKey(
        ContactReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="touches",
    )
    source_type = models.CharField(max_length=64)
    source_id = models.BigIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("marketing touch")
        indexes = [models.Index(fields=["client", "at"])]

    def __str__(self) -> str:
        return f"{self.client_id} {self.source_type}:{self.source_id}"


class LeadForm(TimeStampedModel):
    """A public web form (`/public/lead-form/<key>/`) that creates leads."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_lead_forms",
        verbose_name=_("default channel"),
    )
    event = models.ForeignKey(
        MarketingEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_forms",
        verbose_name=_("default marketing event"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_lead_forms",
        verbose_name=_("default owner"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lead form")

    def __str__(self) -> str:
        return self.name


class Lead(TimeStampedModel):
    """An unqualified enquiry: not yet a client (CRM-3)."""

    class Source(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        API = "api", _("API")
        EMAIL = "email", _("Email")
        IMPORT = "import", _("Import")
        MANUAL = "manual", _("Manual")

    class State(models.TextChoices):
        NEW = "new", _("New")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")

    number = models.CharField(_("number"), max_length=40, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    person_name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    message = models.TextField(_("message"), blank=True)
    source = models.CharField(
        _("source"), max_length=12, choices=Source.choices, default=Source.MANUAL
    )
    channel = models.ForeignKey(
        "parties.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_leads",
        verbose_name=_("channel"),
    )
    marketing_event = models.ForeignKey(
        MarketingEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("marketing event"),
    )
    reason = models.ForeignKey(
        ContactReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("reason for contact"),
    )
    form = models.ForeignKey(
        LeadForm,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("web form"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="crm_leads",
        verbose_name=_("owner"),
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.NEW
    )
    disqualify_reason = models.TextField(_("disqualification reason"), blank=True)
    client = models.ForeignKey(
        "parties.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_leads",
        verbose_name=_("client"),
    )
    deal = models.ForeignKey(
        Deal,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("deal"),
    )
    qualified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [("view_all_leads", _("Can see the leads of all users"))]
        indexes = [
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["owner", "state"]),
        ]

    def __str__(self) -> str:
        return self.company_name or self.person_name or self.email or self.phone


class UnmetDemandReason(TimeStampedModel):
    """Why a client's demand (a deal line) was not met (configurable list)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("unmet demand reason")

    def __str__(self) -> str:
        return self.name


class DealLine(models.Model):
    """A product (or free text) the client wants in a deal (CRM-4)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=1)
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crm_deal_lines",
        verbose_name=_("product"),
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = QuantityField(_("quantity"), default=1)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    price = AmountField(_("expected price"), null=True, blank=True)
    dropped = models.BooleanField(_("dropped"), default=False)
    unmet_reason = models.ForeignKey(
        UnmetDemandReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("unmet demand reason"),
    )
    unmet_note = models.TextField(_("unmet demand note"), blank=True)

    class Meta:
        ordering = ["deal", "position", "id"]
        verbose_name = _("deal line")

    def __str__(self) -> str:
        return self.description or str(self.product_id)
