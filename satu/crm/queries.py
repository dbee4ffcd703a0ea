"""Public reads of the CRM domain. Deals and interactions are visible when
their client is visible to the actor (parties record rules)."""

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from satu.core.errors import NotFound
from satu.core.models import Attachment
from satu.core.roles import role_label
from satu.crm.models import (
    Competitor,
    ContactReason,
    Deal,
    DealApproval,
    DealKind,
    DealStageChange,
    Interaction,
    LossReason,
    Stage,
    StageRule,
)
from satu.parties.queries import (
    clients_visible_to,
    search_terms,
    sections_from,
    segment_client_ids,
)

SUBJECT_DEAL = "crm.deal"
SUBJECT_INTERACTION = "crm.interaction"
# Deal fields a `required_field` stage rule may name.
RULE_FIELDS = {
    "amount": lambda d: d.amount is not None,
    "expected_close": lambda d: d.expected_close is not None,
    "contact": lambda d: d.contact_id is not None,
    "initial_demand": lambda d: bool(d.initial_demand.strip()),
    "probability": lambda d: d.probability is not None,
    "channel": lambda d: d.channel_id is not None,
    "competitors": lambda d: d.competitors.exists(),
}


def _field_label(name: str) -> str:
    if name == "competitors":
        return str(Deal._meta.get_field("competitors").verbose_name)
    return str(Deal._meta.get_field(name).verbose_name)


def _pk(value, message):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(message) from None


# ---------------------------------------------------------------- reference lists


def deal_kinds(*, active_only: bool = True) -> QuerySet[DealKind]:
    qs = DealKind.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.prefetch_related("rules"))
    )
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name", "id")


def deal_kind_get(*, kind_id) -> DealKind:
    kind = (
        deal_kinds(active_only=False)
        .filter(pk=_pk(kind_id, _("Deal kind not found.")))
        .first()
    )
    if kind is None:
        raise NotFound(_("Deal kind not found."))
    return kind


def stages_of(kind: DealKind) -> list[Stage]:
    return list(Stage.objects.filter(kind=kind).order_by("position", "id"))


def loss_reasons() -> QuerySet[LossReason]:
    return LossReason.objects.filter(is_active=True).order_by("name", "id")


def contact_reasons() -> QuerySet[ContactReason]:
    return ContactReason.objects.filter(is_active=True).order_by("name", "id")


def competitors(*, search: str = "") -> QuerySet[Competitor]:
    qs = Competitor.objects.filter(is_active=True)
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    return qs.order_by("name", "id")


# ---------------------------------------------------------------- deals


def deals_visible_to(actor) -> QuerySet[Deal]:
    return Deal.objects.filter(client__in=clients_visible_to(actor))


def deal_list(
    *,
    actor,
    kind_id: int | None = None,
    stage_id: int | None = None,
    status: str = "",
    owner_id: int | None = None,
    client_id: int | None = None,
    search: str = "",
    segment_id: int | None = None,
) -> QuerySet[Deal]:
    qs = deals_visible_to(actor)
    if segment_id:
        qs = qs.filter(client_id__in=segment_client_ids(segment_id))
    if kind_id:
        qs = qs.filter(kind_id=kind_id)
    if stage_id:
        qs = qs.filter(stage_id=stage_id)
    if status:
        qs = qs.filter(status=status)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if client_id:
        qs = qs.filter(client_id=client_id)
    for term in search_terms(search):
        qs = qs.filter(Q(title__icontains=term) | Q(client__search_text__contains=term))
    return (
        qs.select_related(
            "client",
            "kind",
            "stage",
            "owner",
            "loss_reason",
            "won_to",
            "channel",
            "contact",
        )
        .prefetch_related("competitors")
        .order_by("-created_at", "-id")
    )


def deal_get(*, actor, deal_id) -> Deal:
    deal = deal_list(actor=actor).filter(pk=_pk(deal_id, _("Deal not found."))).first()
    if deal is None:
        raise NotFound(_("Deal not found."))
    return deal


def deal_stage_history(*, deal: Deal) -> list[DealStageChange]:
    return list(
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "actor")
        .order_by("at", "id")
    )


def deal_board(*, actor, kind: DealKind, owner_id: int | None = None, search: str = ""):
    """Kanban columns of a deal kind: [(stage, [deals in work])], two queries."""
    stages = stages_of(kind)
    deals = (
        deals_visible_to(actor)
        .filter(kind=kind, status=Deal.Status.IN_WORK)
        .select_related("client")
        .order_by("-stage_entered_at", "-id")
    )
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    for term in search_terms(search):
        deals = deals.filter(
            Q(title__icontains=term) | Q(client__search_text__contains=term)
        )
    by_stage: dict[int | None, list[Deal]] = {}
    for deal in deals:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    return [(stage, by_stage.get(stage.pk, [])) for stage in stages]


def _share(won: int, closed: int) -> dict:
    share = None
    if closed:
        share = (Decimal(won) * 100 / Decimal(closed)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return {"won": won, "closed": closed, "percent": share}


def deal_probability_computed(deal: Deal) -> dict:
    """Win probability from history, in one aggregate query.

    Over closed (won or lost) deals of the same kind, other than `deal`:
    `by_stage` — those that passed the deal's current stage; `by_manager`
    and `by_client` — the same, of the deal's owner / client; `by_kind` —
    all closed deals of the kind. Each is {won, closed, percent (2 places,
    None without history)}; `average` is the mean of the known percents."""
    closed = Deal.objects.filter(
        kind_id=deal.kind_id, status__in=[Deal.Status.WON, Deal.Status.LOST]
    ).exclude(pk=deal.pk)
    won = Q(status=Deal.Status.WON)
    if deal.stage_id:
        passed = Q(
            Exists(
                DealStageChange.objects.filter(
                    deal=OuterRef("pk"), to_stage_id=deal.stage_id
                )
            )
        )
    else:
        passed = Q(pk__in=[])
    mine = passed & Q(owner_id=deal.owner_id)
    theirs = passed & Q(client_id=deal.client_id)
    row = closed.aggregate(
        kind_closed=Count("id"),
        kind_won=Count("id", filter=won),
        stage_closed=Count("id", filter=passed),
        stage_won=Count("id", filter=passed & won),
        manager_closed=Count("id", filter=mine),
        manager_won=Count("id", filter=mine & won),
        client_closed=Count("id", filter=theirs),
        client_won=Count("id", filter=theirs & won),
    )
    result = {
        name: _share(row[f"{name}_won"], row[f"{name}_closed"])
        for name in ("stage", "manager", "client", "kind")
    }
    result = {f"by_{name}": value for name, value in result.items()}
    known = [v["percent"] for v in result.values() if v["percent"] is not None]
    result["average"] = (
        (sum(known) / len(known)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if known
        else None
    )
    return result


def deal_rules(*, stage: Stage) -> list[StageRule]:
    return list(StageRule.objects.filter(stage=stage).order_by("id"))


# ---------------------------------------------------------------- interactions


def interactions_visible_to(actor) -> QuerySet[Interaction]:
    return Interaction.objects.filter(client__in=clients_visible_to(actor))


def interaction_list(
    *,
    actor,
    client_id: int | None = None,
    kind: str = "",
    state: str = "",
    subject_type: str = "",
    subject_id: int | None = None,
    search: str = "",
    segment_id: int | None = None,
) -> QuerySet[Interaction]:
    qs = interactions_visible_to(actor)
    if segment_id:
        qs = qs.filter(client_id__in=segment_client_ids(segment_id))
    if client_id:
        qs = qs.filter(client_id=client_id)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if subject_type:
        qs = qs.filter(subject_type=subject_type)
    if subject_id:
        qs = qs.filter(subject_id=subject_id)
    if search.strip():
        text = search.strip()
        qs = qs.filter(Q(title__icontains=text) | Q(notes__icontains=text))
    return (
        qs.select_related("client", "channel", "reason", "created_by")
        .prefetch_related("contacts", "participants")
        .order_by("-created_at", "-id")
    )


def interaction_get(*, actor, interaction_id) -> Interaction:
    pk = _pk(interaction_id, _("Interaction not found."))
    found = interaction_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Interaction not found."))
    return found


def interaction_thread(
    *, actor, subject_type: str, subject_id: int
) -> list[Interaction]:
    """Interactions about one subject, oldest first; for an interaction
    subject, the interaction itself heads the thread."""
    qs = interaction_list(actor=actor)
    cond = Q(subject_type=subject_type, subject_id=subject_id)
    if subject_type == SUBJECT_INTERACTION:
        cond |= Q(pk=subject_id)
    return list(qs.filter(cond).order_by("created_at", "id"))


def unmet_rules(deal: Deal, stages: list[Stage]) -> list[str]:
    """Messages of the rules of `stages` the deal does not meet (at most 4
    queries).

    Interactions, approvals and attached documents count from the moment
    the deal entered its current stage."""
    rules = list(
        StageRule.objects.filter(stage__in=stages)
        .select_related("stage")
        .order_by("stage__position", "id")
    )
    if not rules:
        return []
    kinds_done = set(
        Interaction.objects.filter(
            subject_type=SUBJECT_DEAL,
            subject_id=deal.pk,
            state=Interaction.State.DONE,
            done_at__gte=deal.stage_entered_at,
        ).values_list("kind", flat=True)
    )
    approved = set(
        DealApproval.objects.filter(
            deal=deal, at__gte=deal.stage_entered_at
        ).values_list("rule_id", flat=True)
    )
    # Files attached to the deal since it entered its stage (core attachments).
    documents = (
        any(r.rule_type == StageRule.Type.DOCUMENT for r in rules)
        and Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(Deal),
            object_id=deal.pk,
            uploaded_at__gte=deal.stage_entered_at,
        ).exists()
    )
    messages = []
    for rule in rules:
        stage = rule.stage.name
        if rule.rule_type == StageRule.Type.REQUIRED_FIELD:
            check = RULE_FIELDS.get(rule.field_name)
            if check is not None and not check(deal):
                messages.append(
                    _("“%(stage)s”: fill in “%(field)s”.")
                    % {"stage": stage, "field": _field_label(rule.field_name)}
                )
        elif rule.rule_type == StageRule.Type.INTERACTION:
            if rule.interaction_kind not in kinds_done:
                messages.append(
                    _(
                        "“%(stage)s”: record a done “%(kind)s” since the deal "
                        "entered its stage."
                    )
                    % {
                        "stage": stage,
                        "kind": Interaction.Kind(rule.interaction_kind).label,
                    }
                )
        elif rule.rule_type == StageRule.Type.DOCUMENT and not documents:
            messages.append(
                _("“%(stage)s”: attach a document (%(what)s) to the deal.")
                % {"stage": stage, "what": rule.field_name or _("any file")}
            )
        elif rule.rule_type == StageRule.Type.APPROVAL and rule.pk not in approved:
            messages.append(
                _("“%(stage)s”: needs approval by a “%(role)s”.")
                % {"stage": stage, "role": role_label(rule.role_code)}
            )
    return messages


def approvals_open(*, deal: Deal, actor) -> list[StageRule]:
    """Approval rules of the deal's current stage not yet approved since it
    entered the stage, which `actor` (by role) may approve."""
    if deal.stage_id is None or deal.status != Deal.Status.IN_WORK:
        return []
    approved = DealApproval.objects.filter(
        deal=deal, at__gte=deal.stage_entered_at
    ).values("rule_id")
    rules = StageRule.objects.filter(
        stage_id=deal.stage_id, rule_type=StageRule.Type.APPROVAL
    ).exclude(pk__in=approved)
    if not actor.is_superuser:
        rules = rules.filter(role_code__in=actor.groups.values("name"))
    return list(rules.order_by("id"))


# ================================================================ claims (CRM-7)

from datetime import date as _date  # noqa: E402

from django.db.models import Avg, F  # noqa: E402
from django.db.models.functions import TruncMonth  # noqa: E402
from django.utils import timezone as _timezone  # noqa: E402

from satu.crm.models import Claim, ClaimCategory  # noqa: E402

SUBJECT_CLAIM = "crm.claim"


def claim_categories(*, active_only: bool = True) -> QuerySet[ClaimCategory]:
    qs = ClaimCategory.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name", "id")


def claims_visible_to(actor) -> QuerySet[Claim]:
    """Claims of visible clients, plus those the actor is responsible for."""
    return Claim.objects.filter(
        Q(client__in=clients_visible_to(actor)) | Q(responsible_id=actor.pk)
    )


def _open_overdue(today: _date) -> Q:
    return Q(deadline__lt=today) & ~Q(state=Claim.State.CLOSED)


def claim_list(
    *,
    actor,
    state: str = "",
    category_id: int | None = None,
    responsible_id: int | None = None,
    client_id: int | None = None,
    overdue: bool | None = None,
    search: str = "",
    segment_id: int | None = None,
) -> QuerySet[Claim]:
    qs = claims_visible_to(actor)
    if segment_id:
        qs = qs.filter(client_id__in=segment_client_ids(segment_id))
    if state:
        qs = qs.filter(state=state)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if responsible_id:
        qs = qs.filter(responsible_id=responsible_id)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if overdue is not None:
        cond = _open_overdue(_timezone.localdate())
        qs = qs.filter(cond) if overdue else qs.exclude(cond)
    for term in search_terms(search):
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(description__icontains=term)
            | Q(product_ref__icontains=term)
            | Q(client__search_text__contains=term)
        )
    return qs.select_related(
        "client", "category", "responsible", "deal", "interaction"
    ).order_by("-created_at", "-id")


def claim_get(*, actor, claim_id) -> Claim:
    claim = (
        claim_list(actor=actor).filter(pk=_pk(claim_id, _("Claim not found."))).first()
    )
    if claim is None:
        raise NotFound(_("Claim not found."))
    return claim


def claim_stats(*, actor, date_from: _date, date_to: _date) -> dict:
    """Claims registered in [date_from, date_to] (visible to the actor),
    counted in SQL by category, responsible, decision, state and month;
    the average days from registration to closing of the closed ones."""
    qs = claims_visible_to(actor).filter(
        created_at__date__gte=date_from, created_at__date__lte=date_to
    )

    def grouped(*fields):
        return list(
            qs.values(*fields).annotate(count=Count("id")).order_by("-count", *fields)
        )

    months = (
        qs.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    )
    closed = qs.filter(state=Claim.State.CLOSED, closed_at__isnull=False)
    avg = closed.aggregate(avg=Avg(F("closed_at") - F("created_at")))["avg"]
    return {
        "total": qs.count(),
        "by_category": grouped("category_id", "category__name"),
        "by_responsible": [
            {
                "responsible_id": row["responsible_id"],
                "name": " ".join(
                    p
                    for p in (
                        row["responsible__first_name"],
                        row["responsible__last_name"],
                    )
                    if p
                )
                or row["responsible__username"],
                "count": row["count"],
            }
            for row in grouped(
                "responsible_id",
                "responsible__first_name",
                "responsible__last_name",
                "responsible__username",
            )
        ],
        "by_decision": grouped("decision"),
        "by_state": grouped("state"),
        # Free-text product for now ("" = not given); a catalog link later.
        "by_product": grouped("product_ref"),
        "by_month": [
            {"month": _as_date(row["month"]), "count": row["count"]} for row in months
        ],
        "overdue": qs.filter(_open_overdue(_timezone.localdate())).count(),
        "avg_days_to_close": (
            round(avg.total_seconds() / 86400, 1) if avg is not None else None
        ),
    }


def _as_date(value):
    return value.date() if hasattr(value, "date") else value


# ================================================================ tasks (CRM-5)

from datetime import datetime, time, timedelta  # noqa: E402

from django.utils import timezone  # noqa: E402

from satu.crm.models import CalendarFeed, Task  # noqa: E402


def tasks_visible_to(actor) -> QuerySet[Task]:
    """Record rule: with `crm.view_all_tasks` every task; otherwise tasks the
    actor is responsible for or created, and tasks of clients he sees."""
    if actor.has_perm("crm.view_all_tasks"):
        return Task.objects.all()
    return Task.objects.filter(
        Q(responsible=actor)
        | Q(created_by=actor)
        | Q(client__in=clients_visible_to(actor))
    )


def task_list(
    *,
    actor,
    state: str = "",
    responsible_id: int | None = None,
    client_id: int | None = None,
    overdue: bool | None = None,
    segment_id: int | None = None,
) -> QuerySet[Task]:
    qs = tasks_visible_to(actor)
    if segment_id:
        qs = qs.filter(client_id__in=segment_client_ids(segment_id))
    if state:
        qs = qs.filter(state=state)
    if responsible_id:
        qs = qs.filter(responsible_id=responsible_id)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if overdue is True:
        qs = qs.filter(state=Task.State.OPEN, due_at__lt=timezone.now())
    elif overdue is False:
        qs = qs.exclude(state=Task.State.OPEN, due_at__lt=timezone.now())
    return qs.select_related("client", "deal", "responsible", "created_by").order_by(
        "due_at", "id"
    )


def task_get(*, actor, task_id) -> Task:
    found = task_list(actor=actor).filter(pk=_pk(task_id, _("Task not found."))).first()
    if found is None:
        raise NotFound(_("Task not found."))
    return found


def tasks_overdue(actor) -> QuerySet[Task]:
    """Open tasks past their due time that the actor is responsible for."""
    return task_list(actor=actor, responsible_id=actor.pk, overdue=True)


def my_tasks(*, actor, segment_id: int | None = None) -> dict:
    """The actor's open tasks split into overdue / today / upcoming."""
    now = timezone.now()
    local = timezone.localtime(now)
    end_of_day = timezone.make_aware(
        datetime.combine(local.date() + timedelta(days=1), time.min)
    )
    qs = list(
        task_list(
            actor=actor,
            state=Task.State.OPEN,
            responsible_id=actor.pk,
            segment_id=segment_id,
        )
    )
    return {
        "overdue": [t for t in qs if t.due_at < now],
        "today": [t for t in qs if now <= t.due_at < end_of_day],
        "upcoming": [t for t in qs if t.due_at >= end_of_day],
    }


def notifications(*, actor) -> list[dict]:
    """In-app reminders: the actor's open tasks whose reminder (or, without
    one, due) time has passed, and his planned interactions that are due."""
    now = timezone.now()
    tasks = task_list(
        actor=actor, state=Task.State.OPEN, responsible_id=actor.pk
    ).filter(Q(remind_at__lte=now) | Q(remind_at=None, due_at__lte=now))
    planned = (
        interactions_visible_to(actor)
        .filter(state=Interaction.State.PLANNED, planned_at__lte=now)
        .filter(Q(created_by=actor) | Q(participants=actor))
        .select_related("client")
        .distinct()
        .order_by("planned_at", "id")
    )
    items = [
        {
            "type": "task",
            "id": t.pk,
            "title": t.title,
            "at": t.due_at,
            "url": f"/tasks/{t.pk}/",
            "overdue": t.is_overdue,
        }
        for t in tasks
    ] + [
        {
            "type": "interaction",
            "id": i.pk,
            "title": i.title,
            "at": i.planned_at,
            "url": f"/interactions/{i.pk}/",
            "overdue": True,
        }
        for i in planned
    ]
    return sorted(items, key=lambda item: item["at"])


def calendar_week(*, actor, monday) -> list[dict]:
    """Seven days from `monday` (a date), each with the actor's tasks and
    planned interactions due that day, in time order."""
    return _calendar_days(actor=actor, first=monday, count=7)


def calendar_day(*, actor, day) -> dict:
    """One day (a date) with the actor's tasks and planned interactions, in
    time order: `{"date", "items": [{"type", "at", "obj"}]}`."""
    return _calendar_days(actor=actor, first=day, count=1)[0]


def _calendar_days(*, actor, first, count: int) -> list[dict]:
    monday = first
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(first + timedelta(days=count), time.min))
    tasks = (
        task_list(actor=actor, responsible_id=actor.pk)
        .filter(due_at__gte=start, due_at__lt=end)
        .exclude(state=Task.State.CANCELLED)
    )
    planned = (
        interactions_visible_to(actor)
        .filter(state=Interaction.State.PLANNED, planned_at__gte=start)
        .filter(planned_at__lt=end)
        .filter(Q(created_by=actor) | Q(participants=actor))
        .select_related("client")
        .distinct()
    )
    days = [{"date": monday + timedelta(days=n), "items": []} for n in range(count)]
    for t in tasks:
        day = timezone.localtime(t.due_at).date()
        days[(day - monday).days]["items"].append(
            {"type": "task", "at": t.due_at, "obj": t}
        )
    for i in planned:
        day = timezone.localtime(i.planned_at).date()
        days[(day - monday).days]["items"].append(
            {"type": "interaction", "at": i.planned_at, "obj": i}
        )
    for day in days:
        day["items"].sort(key=lambda item: item["at"])
    return days


def calendar_feeds(*, actor) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(user=actor).order_by("-created_at", "-id")


def calendar_feed_by_token(*, token: str) -> CalendarFeed:
    """The feed of a secret token (no actor: the token is the credential)."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=str(token)[:64], user__is_active=True)
        .first()
    )
    if feed is None or not token:
        raise NotFound(_("Calendar not found."))
    return feed


def calendar_feed_items(*, user) -> tuple[list[Task], list[Interaction]]:
    """What the user's iCalendar feed shows: his non-cancelled tasks and
    planned interactions he created or takes part in."""
    tasks = list(
        Task.objects.filter(responsible=user)
        .exclude(state=Task.State.CANCELLED)
        .select_related("client")
        .order_by("due_at", "id")
    )
    planned = list(
        Interaction.objects.filter(state=Interaction.State.PLANNED)
        .exclude(planned_at=None)
        .filter(Q(created_by=user) | Q(participants=user))
        .select_related("client")
        .distinct()
        .order_by("planned_at", "id")
    )
    return tasks, planned


def tasks_reminder_due() -> QuerySet[Task]:
    """System read for the reminder job: open tasks whose reminder (or due)
    time has passed, not e-mailed yet, of active users with an address."""
    now = timezone.now()
    return (
        Task.objects.filter(state=Task.State.OPEN, reminder_sent_at=None)
        .filter(Q(remind_at__lte=now) | Q(remind_at=None, due_at__lte=now))
        .filter(responsible__is_active=True)
        .exclude(responsible__email="")
        .select_related("responsible", "client")
        .order_by("responsible_id", "due_at", "id")
    )


# ============================================ marketing, attribution, leads
# (CRM-3, CRM-4 lines, CRM-6, P6)

from collections.abc import Callable  # noqa: E402

from django.db.models import (  # noqa: E402
    BigIntegerField,
    Case,
    Min,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce  # noqa: E402
from django.utils.translation import gettext_lazy as _lazy  # noqa: E402

from satu.core.money import money_round  # noqa: E402
from satu.crm.models import (  # noqa: E402
    DealLine,
    EventParticipant,
    Lead,
    LeadForm,
    MarketingCost,
    MarketingEvent,
    Touch,
    UnmetDemandReason,
)
from satu.parties.models import Channel  # noqa: E402

SUBJECT_LEAD = "crm.lead"
ROI_MODELS = ("first", "last")


def marketing_event_list(
    *, search: str = "", kind: str = "", date_from=None, date_to=None
) -> QuerySet[MarketingEvent]:
    """Events (all visible to whoever may view events), latest first, with
    their total recorded cost and participant count."""
    qs = MarketingEvent.objects.all()
    for term in search_terms(search):
        qs = qs.filter(name__icontains=term)
    if kind:
        qs = qs.filter(kind=kind)
    if date_from:
        qs = qs.filter(ends_on__gte=date_from)
    if date_to:
        qs = qs.filter(starts_on__lte=date_to)
    cost = (
        MarketingCost.objects.filter(event=OuterRef("pk"))
        .values("event")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    participants = (
        EventParticipant.objects.filter(event=OuterRef("pk"))
        .values("event")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        qs.select_related("channel", "channel__parent", "responsible")
        .annotate(
            cost_total=Subquery(cost),
            participant_count=Coalesce(Subquery(participants), 0),
        )
        .order_by("-starts_on", "-id")
    )


def marketing_event_get(*, event_id) -> MarketingEvent:
    event = (
        marketing_event_list()
        .filter(pk=_pk(event_id, _("Marketing event not found.")))
        .first()
    )
    if event is None:
        raise NotFound(_("Marketing event not found."))
    return event


def marketing_events_active() -> QuerySet[MarketingEvent]:
    """Events for pickers (recent first)."""
    return MarketingEvent.objects.order_by("-starts_on", "name")


def event_participants(*, event: MarketingEvent) -> list[EventParticipant]:
    return list(event.participants.select_related("client", "contact").order_by("id"))


def marketing_cost_list(
    *,
    event_id: int | None = None,
    channel_id: int | None = None,
    channel_only: bool = False,
    date_from=None,
    date_to=None,
) -> QuerySet[MarketingCost]:
    qs = MarketingCost.objects.select_related(
        "event", "channel", "channel__parent"
    ).order_by("-date", "-id")
    if event_id:
        qs = qs.filter(event_id=event_id)
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    if channel_only:
        qs = qs.filter(event__isnull=True)
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    return qs


def channel_get(*, channel_id) -> Channel:
    channel = (
        Channel.objects.select_related("parent")
        .filter(pk=_pk(channel_id, _("Channel not found.")))
        .first()
    )
    if channel is None:
        raise NotFound(_("Channel not found."))
    return channel


def channel_tree() -> list[dict]:
    """All channels in tree order: [{"channel", "depth", "ids"}], `ids` being
    the channel and all its descendants (one query)."""
    channels = list(Channel.objects.order_by("name", "id"))
    children: dict[int | None, list[Channel]] = {}
    for channel in channels:
        children.setdefault(channel.parent_id, []).append(channel)
    rows: list[dict] = []

    def walk(parent_id, depth):
        for channel in children.get(parent_id, []):
            row = {"channel": channel, "depth": depth, "ids": {channel.pk}}
            rows.append(row)
            start = len(rows)
            walk(channel.pk, depth + 1)
            for sub in rows[start:]:
                row["ids"].add(sub["channel"].pk)

    walk(None, 0)
    return rows


TOUCH_SOURCES = {
    "crm.lead": _lazy("Lead"),
    "crm.deal": _lazy("Deal"),
    "crm.interaction": _lazy("Interaction"),
    "crm.claim": _lazy("Claim"),
    "crm.eventparticipant": _lazy("Event registration"),
}


def client_touches(*, client) -> list[Touch]:
    """The client's marketing touches, earliest (the first touch) first;
    each carries `source_label` (what kind of record made it)."""
    touches = list(
        Touch.objects.filter(client=client)
        .select_related("channel", "channel__parent", "event", "reason")
        .order_by("at", "id")
    )
    for touch in touches:
        touch.source_label = TOUCH_SOURCES.get(touch.source_type, touch.source_type)
    return touches


# ---------------------------------------------------------------- ROI

RevenueSource = Callable[..., list[dict]]
_revenue_sources: list[RevenueSource] = []


def register_revenue_source(fn: RevenueSource) -> None:
    """Add a revenue source to marketing ROI.

    `fn(*, model, date_from, date_to, currency)` returns rows
    `{"event_id": int | None, "channel_id": int | None, "amount": Decimal}`:
    revenue in `currency` earned in [date_from, date_to], attributed by
    `model` ("first": the client's first touch; "last": the document's own
    channel/event, else the client's latest touch before it). Won deals are
    the built-in source; sales registers invoiced orders the same way (from
    its AppConfig.ready). A source should answer with one aggregate query."""
    if fn not in _revenue_sources:
        _revenue_sources.append(fn)


def _touch_attr(model: str, field: str, before=None):
    """Subquery: `field` of the client's first touch (model "first") or of
    its latest touch at or before `before` (model "last") that names a
    channel or an event."""
    touches = Touch.objects.filter(client=OuterRef("client_id")).filter(
        Q(channel__isnull=False) | Q(event__isnull=False)
    )
    if model == "first":
        touches = touches.order_by("at", "id")
    else:
        touches = touches.filter(at__lte=before).order_by("-at", "-id")
    return Subquery(touches.values(field)[:1])


def won_deal_revenue(*, model: str, date_from, date_to, currency: str) -> list[dict]:
    """Revenue of deals won in the period, in `currency`, attributed to an
    event/channel (one aggregate query)."""
    qs = Deal.objects.filter(
        status=Deal.Status.WON,
        currency=currency,
        amount__isnull=False,
        closed_at__date__gte=date_from,
        closed_at__date__lte=date_to,
    )
    if model == "first":
        qs = qs.annotate(
            attr_event=_touch_attr("first", "event_id"),
            attr_channel=_touch_attr("first", "channel_id"),
        )
    else:
        own = Q(marketing_event__isnull=False) | Q(channel__isnull=False)
        qs = qs.annotate(
            attr_event=Case(
                When(own, then=F("marketing_event_id")),
                default=_touch_attr("last", "event_id", OuterRef("closed_at")),
                output_field=BigIntegerField(),
            ),
            attr_channel=Case(
                When(
                    own,
                    then=Coalesce(
                        "channel_id",
                        "marketing_event__channel_id",
                        output_field=BigIntegerField(),
                    ),
                ),
                default=_touch_attr("last", "channel_id", OuterRef("closed_at")),
                output_field=BigIntegerField(),
            ),
        )
    rows = (
        qs.values("attr_event", "attr_channel")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    return [
        {
            "event_id": r["attr_event"],
            "channel_id": r["attr_channel"],
            "amount": r["amount"],
        }
        for r in rows
    ]


register_revenue_source(won_deal_revenue)


def _roi(revenue: Decimal, cost: Decimal) -> Decimal | None:
    if not cost:
        return None
    return ((revenue - cost) / cost).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def marketing_roi(
    *, model: str = "first", date_from, date_to, currency: str = "IDR"
) -> dict:
    """ROI per marketing event and per channel in [date_from, date_to].

    cost = cost lines dated in the period (a channel's cost includes its
    sub-channels and the events of those channels); revenue = the registered
    revenue sources (won deals) attributed by `model` ("first"/"last");
    ROI = (revenue − cost) / cost, None without cost. Amounts are exact
    Decimals rounded to the currency. Rows with neither cost nor revenue are
    left out. Returns {"events": [...], "channels": [...], "totals": {...},
    "unattributed": Decimal}."""
    costs = (
        MarketingCost.objects.filter(
            currency=currency, date__gte=date_from, date__lte=date_to
        )
        .values("event_id", "channel_id", "event__channel_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    event_cost: dict[int, Decimal] = {}
    channel_cost: dict[int, Decimal] = {}
    total_cost = Decimal(0)
    for row in costs:
        total_cost += row["total"]
        if row["event_id"]:
            event_cost[row["event_id"]] = (
                event_cost.get(row["event_id"], Decimal(0)) + row["total"]
            )
        channel = row["channel_id"] or row["event__channel_id"]
        if channel:
            channel_cost[channel] = channel_cost.get(channel, Decimal(0)) + row["total"]
    event_rev: dict[int, Decimal] = {}
    channel_rev: dict[int, Decimal] = {}
    total_rev = unattributed = Decimal(0)
    for source in _revenue_sources:
        for row in source(
            model=model, date_from=date_from, date_to=date_to, currency=currency
        ):
            amount = row["amount"] or Decimal(0)
            total_rev += amount
            if row["event_id"]:
                event_rev[row["event_id"]] = (
                    event_rev.get(row["event_id"], Decimal(0)) + amount
                )
            if row["channel_id"]:
                channel_rev[row["channel_id"]] = (
                    channel_rev.get(row["channel_id"], Decimal(0)) + amount
                )
            if not row["event_id"] and not row["channel_id"]:
                unattributed += amount

    def line(cost: Decimal, revenue: Decimal) -> dict:
        cost, revenue = money_round(cost, currency), money_round(revenue, currency)
        return {"cost": cost, "revenue": revenue, "roi": _roi(revenue, cost)}

    events = []
    ids = set(event_cost) | set(event_rev)
    for event in MarketingEvent.objects.filter(pk__in=ids).order_by("-starts_on"):
        events.append(
            {
                "event_id": event.pk,
                "name": event.name,
                "kind": event.kind,
                **line(
                    event_cost.get(event.pk, Decimal(0)),
                    event_rev.get(event.pk, Decimal(0)),
                ),
            }
        )
    channels = []
    for row in channel_tree():
        cost = sum((channel_cost.get(i, Decimal(0)) for i in row["ids"]), Decimal(0))
        revenue = sum((channel_rev.get(i, Decimal(0)) for i in row["ids"]), Decimal(0))
        if cost or revenue:
            channels.append(
                {
                    "channel_id": row["channel"].pk,
                    "name": row["channel"].name,
                    "parent_id": row["channel"].parent_id,
                    "depth": row["depth"],
                    **line(cost, revenue),
                }
            )
    return {
        "model": model,
        "currency": currency,
        "date_from": date_from,
        "date_to": date_to,
        "events": events,
        "channels": channels,
        "totals": line(total_cost, total_rev),
        "unattributed": money_round(unattributed, currency),
    }


# ---------------------------------------------------------------- leads


def leads_visible_to(actor) -> QuerySet[Lead]:
    """Record rule: a head of sales (sees all clients) or a marketer sees
    every lead; a manager sees the leads he owns."""
    qs = Lead.objects.all()
    if not actor.is_active:
        return qs.none()
    if actor.has_perm("parties.view_all_clients") or actor.has_perm(
        "crm.view_all_leads"
    ):
        return qs
    return qs.filter(owner=actor)


def lead_list(
    *,
    actor,
    search: str = "",
    state: str = "",
    source: str = "",
    owner_id: int | None = None,
    channel_id: int | None = None,
) -> QuerySet[Lead]:
    qs = leads_visible_to(actor)
    for term in search_terms(search):
        qs = qs.filter(
            Q(company_name__icontains=term)
            | Q(person_name__icontains=term)
            | Q(email__icontains=term)
            | Q(phone__contains=term)
            | Q(number__icontains=term)
        )
    if state:
        qs = qs.filter(state=state)
    if source:
        qs = qs.filter(source=source)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    return qs.select_related(
        "owner",
        "channel",
        "channel__parent",
        "marketing_event",
        "reason",
        "client",
        "deal",
        "form",
    ).order_by("-created_at", "-id")


def lead_get(*, actor, lead_id) -> Lead:
    lead = lead_list(actor=actor).filter(pk=_pk(lead_id, _("Lead not found."))).first()
    if lead is None:
        raise NotFound(_("Lead not found."))
    return lead


def lead_duplicates(*, lead: Lead) -> list[dict]:
    """Clients that look like the lead's business (for the qualify screen)."""
    from satu.parties.queries import client_duplicates

    return client_duplicates(
        name=lead.company_name or lead.person_name, phone=lead.phone, email=lead.email
    )


def lead_forms() -> QuerySet[LeadForm]:
    return LeadForm.objects.select_related("channel", "event", "owner").order_by(
        "name", "id"
    )


def lead_form_public(*, key: str) -> LeadForm:
    form = LeadForm.objects.filter(key=key, is_active=True).first()
    if form is None:
        from satu.crm.errors import LeadFormClosed

        raise LeadFormClosed()
    return form


# ---------------------------------------------------------------- deal lines


def deal_lines(*, deal: Deal) -> list[DealLine]:
    return list(
        deal.lines.select_related("product", "unmet_reason").order_by("position", "id")
    )


def unmet_demand_reasons(*, active_only: bool = True) -> QuerySet[UnmetDemandReason]:
    qs = UnmetDemandReason.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def unmet_demand_stats(*, date_from, date_to) -> list[dict]:
    """Dropped/unmet lines of deals created in the period, by reason."""
    return list(
        DealLine.objects.filter(
            unmet_reason__isnull=False,
            deal__created_at__date__gte=date_from,
            deal__created_at__date__lte=date_to,
        )
        .values("unmet_reason_id", "unmet_reason__name")
        .annotate(count=Count("id"), first=Min("deal__created_at"))
        .order_by("-count")
    )


# ---------------------------------------------------------------- deal page
# Higher apps (sales: quotes and orders) add blocks to the deal page without
# crm importing them, like the client card's sections in parties.

DEAL_SECTIONS: dict[str, tuple[int, object]] = {}


def register_deal_section(code: str, provider, *, order: int = 100) -> None:
    """Register `provider(actor, deal) -> parties.queries.CardSection | None`."""
    DEAL_SECTIONS[code] = (order, provider)


def deal_sections(*, actor, deal) -> list:
    return sections_from(DEAL_SECTIONS, actor, deal)
