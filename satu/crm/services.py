"""Public writes of the CRM domain: interactions, deals and their stages,
reference lists. Every function is one transaction; invalid input raises a
DomainError before anything is written (or inside the transaction, which
then rolls back)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.core import access, audit, features
from satu.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.events import publish_on_commit
from satu.core.models import User
from satu.crm import locks, queries
from satu.crm.errors import (
    DealClosed,
    DealHasNoStages,
    DealNotClosed,
    InteractionStateInvalid,
    StageDrivenByProcess,
    StageRulesUnmet,
)
from satu.crm.events import (
    DealCreated,
    DealLost,
    DealStageChanged,
    DealWon,
    InteractionCreated,
)
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
from satu.parties import queries as parties_queries
from satu.parties.models import Channel, ContactRole
from satu.parties.services import timeline_record

FEATURE = "crm"


def _require(actor, perm: str) -> None:
    features.require(FEATURE)
    if not actor.has_perm(perm):
        raise PermissionDenied()


def _check_version(obj, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise VersionConflict()


def _visible_client(actor, client_id):
    try:
        pk = int(client_id)
    except (TypeError, ValueError):
        raise NotFound(_("Client not found.")) from None
    client = (
        parties_queries.clients_visible_to(actor)
        .filter(pk=pk, merged_into=None)
        .first()
    )
    if client is None:
        raise NotFound(_("Client not found."))
    return client


def _active_user(user_id, errors, key) -> None:
    if (
        user_id is not None
        and not User.objects.filter(pk=user_id, is_active=True).exists()
    ):
        errors[key] = [_("Unknown or inactive user.")]


def _known(model, pk, errors, key, message) -> None:
    if pk is not None and not model.objects.filter(pk=pk).exists():
        errors[key] = [message]


def _text(data: dict, limits: dict, errors: dict) -> None:
    for key, limit in limits.items():
        if data.get(key) is not None:
            data[key] = str(data[key]).strip()
            if len(data[key]) > limit:
                errors[key] = [_("At most %(n)d characters.") % {"n": limit}]


# ================================================================ interactions

INTERACTION_TEXT = {"title": 200, "place": 200, "result": 200, "notes": 20000}
INTERACTION_FIELDS = [
    "title",
    "direction",
    "planned_at",
    "start_at",
    "end_at",
    "place",
    "duration_seconds",
    "result",
    "channel_id",
    "reason_id",
    "marketing_event_id",
    "notes",
]


def _subject_source(actor, from_type: str, from_id) -> tuple[int, str, int]:
    """(client_id, subject_type, subject_id) inherited from a document."""
    if from_type == queries.SUBJECT_DEAL:
        deal = queries.deal_get(actor=actor, deal_id=from_id)
        return deal.client_id, queries.SUBJECT_DEAL, deal.pk
    if from_type == queries.SUBJECT_INTERACTION:
        parent = queries.interaction_get(actor=actor, interaction_id=from_id)
        if parent.subject_type:
            return parent.client_id, parent.subject_type, parent.subject_id
        return parent.client_id, queries.SUBJECT_INTERACTION, parent.pk
    # Documents of later modules (sales.order, claims...) registered in the
    # access registry with a `client_id`.
    obj = access.visible_get(actor=actor, object_type=from_type, object_id=from_id)
    client_id = getattr(obj, "client_id", None)
    if client_id is None:
        raise ValidationFailed(
            fields={"from_type": [_("This document has no client.")]}
        )
    return client_id, from_type, obj.pk


def _clean_interaction(data: dict, kind: str, errors: dict) -> None:
    _text(data, INTERACTION_TEXT, errors)
    if "title" in data and not data.get("title"):
        errors["title"] = [_("This field is required.")]
    direction = data.get("direction") or ""
    if direction and direction not in Interaction.Direction.values:
        errors["direction"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Interaction.Direction.values)}
        ]
    elif direction and kind != Interaction.Kind.CALL:
        errors["direction"] = [_("Only phone calls have a direction.")]
    start, end = data.get("start_at"), data.get("end_at")
    if start and end and end < start:
        errors["end_at"] = [_("The end is before the start.")]
    duration = data.get("duration_seconds")
    if duration is not None and (duration < 0 or duration > 86400 * 7):
        errors["duration_seconds"] = [_("Enter a duration between 0 and 7 days.")]
    _check_attribution(data, errors)


def _check_people(client_id, contact_ids, participant_ids, errors) -> None:
    if contact_ids:
        ids = set(contact_ids)
        linked = set(
            ContactRole.objects.filter(
                client_id=client_id, contact_id__in=ids
            ).values_list("contact_id", flat=True)
        )
        if linked != ids:
            errors["contact_ids"] = [_("Contact persons must act for this client.")]
    if participant_ids:
        ids = set(participant_ids)
        if User.objects.filter(pk__in=ids, is_active=True).count() != len(ids):
            errors["participant_ids"] = [_("Unknown or inactive user.")]


def _interaction_data(interaction: Interaction) -> dict:
    return {
        "kind": interaction.kind,
        "title": interaction.title,
        "state": interaction.state,
    }


def _interaction_timeline(actor, interaction: Interaction, event: str) -> None:
    timeline_record(
        client_id=interaction.client_id,
        kind=f"interaction.{event}",
        actor=actor,
        summary=f"{interaction.get_kind_display()}: {interaction.title}",
        subject_type=queries.SUBJECT_INTERACTION,
        subject_id=interaction.pk,
        url=f"/interactions/{interaction.pk}/",
        data=_interaction_data(interaction),
    )


@transaction.atomic
def interaction_create(
    *,
    actor,
    kind: str,
    title: str,
    client_id: int | None = None,
    from_type: str = "",
    from_id: int | None = None,
    state: str = Interaction.State.DONE,
    direction: str = "",
    contact_ids: list[int] | None = None,
    participant_ids: list[int] | None = None,
    planned_at=None,
    start_at=None,
    end_at=None,
    place: str = "",
    duration_seconds: int | None = None,
    result: str = "",
    channel_id: int | None = None,
    reason_id: int | None = None,
    notes: str = "",
    marketing_event_id: int | None = None,
) -> Interaction:
    """Record (or plan) an interaction with a client.

    Created "from" a document (`from_type`="crm.deal"/"crm.interaction"/...,
    `from_id`) it inherits that document's client and thread subject.
    Appends to the client timeline and the audit trail. Raises NotFound when
    the client or document is not visible to the actor, ValidationFailed for
    bad fields, PermissionDenied without `crm.add_interaction`."""
    _require(actor, "crm.add_interaction")
    subject_type, subject_id = "", None
    if from_type:
        inherited, subject_type, subject_id = _subject_source(actor, from_type, from_id)
        if client_id is not None and int(client_id) != inherited:
            raise ValidationFailed(
                fields={"client_id": [_("The client differs from the document's.")]}
            )
        client_id = inherited
    if client_id is None:
        raise ValidationFailed(fields={"client_id": [_("This field is required.")]})
    client = _visible_client(actor, client_id)
    errors: dict[str, list] = {}
    if kind not in Interaction.Kind.values:
        errors["kind"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Interaction.Kind.values)}
        ]
    if state not in (Interaction.State.PLANNED, Interaction.State.DONE):
        errors["state"] = [_("A new interaction is planned or done.")]
    if kind == Interaction.Kind.PLANNED:
        state = Interaction.State.PLANNED
    if state == Interaction.State.PLANNED and planned_at is None:
        errors["planned_at"] = [_("Say when the interaction is planned.")]
    data = {
        "title": title,
        "direction": direction or "",
        "planned_at": planned_at,
        "start_at": start_at,
        "end_at": end_at,
        "place": place,
        "duration_seconds": duration_seconds,
        "result": result,
        "channel_id": channel_id,
        "reason_id": reason_id,
        "marketing_event_id": marketing_event_id,
        "notes": notes,
    }
    _clean_interaction(data, kind, errors)
    if (
        kind == Interaction.Kind.CALL
        and not data["direction"]
        and "direction" not in errors
    ):
        errors["direction"] = [_("Say whether the call was incoming or outgoing.")]
    _check_people(client.pk, contact_ids, participant_ids, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    interaction = Interaction.objects.create(
        kind=kind,
        state=state,
        client=client,
        subject_type=subject_type,
        subject_id=subject_id,
        done_at=now if state == Interaction.State.DONE else None,
        created_by=actor,
        **data,
    )
    if contact_ids:
        interaction.contacts.set(contact_ids)
    if participant_ids:
        interaction.participants.set(participant_ids)
    _touch_from(interaction, queries.SUBJECT_INTERACTION)
    audit.record(actor=actor, subject=interaction, action="created")
    _interaction_timeline(
        actor,
        interaction,
        "planned" if state == Interaction.State.PLANNED else "created",
    )
    publish_on_commit(InteractionCreated(interaction.pk, client.pk))
    return interaction


def _editable_interaction(actor, interaction_id) -> Interaction:
    _require(actor, "crm.change_interaction")
    try:
        pk = int(interaction_id)
    except (TypeError, ValueError):
        raise NotFound(_("Interaction not found.")) from None
    found = (
        locks.interactions_for_update(queries.interactions_visible_to(actor))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("Interaction not found."))
    return found


@transaction.atomic
def interaction_update(
    *,
    actor,
    interaction_id: int,
    version: int | None = None,
    contact_ids: list[int] | None = None,
    participant_ids: list[int] | None = None,
    **changes,
) -> Interaction:
    """Change fields of an interaction (not its client, kind or thread).

    Locks the interaction. Raises VersionConflict on a stale `version`."""
    interaction = _editable_interaction(actor, interaction_id)
    _check_version(interaction, version)
    unknown = set(changes) - set(INTERACTION_FIELDS)
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in unknown}
    data = {k: v for k, v in changes.items() if k not in unknown}
    merged = {f: getattr(interaction, f) for f in ("start_at", "end_at")} | data
    _clean_interaction(merged, interaction.kind, errors)
    if "title" in data and not merged.get("title"):
        errors["title"] = [_("This field is required.")]
    _check_people(interaction.client_id, contact_ids, participant_ids, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = [f.removesuffix("_id") for f in INTERACTION_FIELDS]
    before = audit.snapshot(interaction, tracked)
    before["contacts"] = sorted(map(str, interaction.contacts.all()))
    attribution = _attribution_of(interaction)
    for key in data:
        value = merged[key]
        setattr(
            interaction, key, "" if value is None and key in INTERACTION_TEXT else value
        )
    interaction.version += 1
    interaction.save()
    _touch_from(interaction, queries.SUBJECT_INTERACTION, attribution)
    if contact_ids is not None:
        interaction.contacts.set(contact_ids)
    if participant_ids is not None:
        interaction.participants.set(participant_ids)
    after = audit.snapshot(interaction, tracked)
    after["contacts"] = sorted(map(str, interaction.contacts.all()))
    changed = audit.diff(before, after)
    if changed:
        audit.record(
            actor=actor, subject=interaction, action="updated", changes=changed
        )
    return interaction


def _close_planned(actor, interaction_id, state: str, **fields) -> Interaction:
    interaction = _editable_interaction(actor, interaction_id)
    if interaction.state != Interaction.State.PLANNED:
        raise InteractionStateInvalid()
    old = interaction.state
    interaction.state = state
    for key, value in fields.items():
        if value is not None:
            setattr(interaction, key, value)
    if state == Interaction.State.DONE:
        interaction.done_at = timezone.now()
    interaction.version += 1
    interaction.save()
    audit.record(
        actor=actor,
        subject=interaction,
        action="completed" if state == Interaction.State.DONE else "cancelled",
        changes={"state": [old, state]},
    )
    _interaction_timeline(
        actor,
        interaction,
        "completed" if state == Interaction.State.DONE else "cancelled",
    )
    return interaction


@transaction.atomic
def interaction_complete(
    *,
    actor,
    interaction_id: int,
    result: str | None = None,
    duration_seconds: int | None = None,
    notes: str | None = None,
) -> Interaction:
    """Mark a planned interaction done (it then counts for stage rules).

    Raises InteractionStateInvalid unless it is planned."""
    errors: dict[str, list] = {}
    data = {"result": result, "notes": notes, "duration_seconds": duration_seconds}
    _text(data, INTERACTION_TEXT, errors)
    if duration_seconds is not None and duration_seconds < 0:
        errors["duration_seconds"] = [_("Enter a duration between 0 and 7 days.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return _close_planned(actor, interaction_id, Interaction.State.DONE, **data)


@transaction.atomic
def interaction_cancel(*, actor, interaction_id: int) -> Interaction:
    """Cancel a planned interaction. Raises InteractionStateInvalid otherwise."""
    return _close_planned(actor, interaction_id, Interaction.State.CANCELLED)


# ================================================================ deals

DEAL_TEXT = {"title": 200, "initial_demand": 20000}
DEAL_FIELDS = [
    "title",
    "owner_id",
    "contact_id",
    "amount",
    "currency",
    "expected_close",
    "initial_demand",
    "probability",
    "channel_id",
    "reason_id",
    "marketing_event_id",
]


def _clean_deal(data: dict, client_id: int, errors: dict) -> None:
    _text(data, DEAL_TEXT, errors)
    if "title" in data and not data.get("title"):
        errors["title"] = [_("This field is required.")]
    if data.get("amount") is not None:
        try:
            amount = Decimal(str(data["amount"]))
            if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 16:
                raise InvalidOperation
            data["amount"] = amount.quantize(Decimal("0.0001"))
        except (InvalidOperation, ValueError):
            errors["amount"] = [_("Enter a non-negative amount.")]
    if "currency" in data:
        currency = (data.get("currency") or "").upper()
        if len(currency) != 3 or not currency.isalpha():
            errors["currency"] = [_("Use a three-letter currency code, e.g. IDR.")]
        data["currency"] = currency
    if data.get("probability") is not None and not 0 <= data["probability"] <= 100:
        errors["probability"] = [_("Enter a percentage from 0 to 100.")]
    _active_user(data.get("owner_id"), errors, "owner_id")
    if (
        data.get("contact_id") is not None
        and not ContactRole.objects.filter(
            client_id=client_id, contact_id=data["contact_id"]
        ).exists()
    ):
        errors["contact_id"] = [_("The contact person must act for this client.")]
    _check_attribution(data, errors)


def _check_owner(actor, owner_id, current_id, errors) -> None:
    # As with clients: only someone who sees every manager's clients hands
    # a deal to another manager.
    if owner_id not in (actor.pk, current_id) and not (
        parties_queries.sees_all_clients(actor)
    ):
        errors.setdefault("owner_id", []).append(
            _("Only a head of sales can give a deal to another manager.")
        )


def _check_competitors(ids, errors) -> None:
    if ids and Competitor.objects.filter(pk__in=set(ids)).count() != len(set(ids)):
        errors["competitor_ids"] = [_("Unknown competitor.")]


def _deal_data(deal: Deal, **extra) -> dict:
    return {"title": deal.title, "kind": deal.kind.name, **extra}


def _deal_timeline(actor, deal: Deal, kind: str, summary: str, **data) -> None:
    timeline_record(
        client_id=deal.client_id,
        kind=kind,
        actor=actor,
        summary=summary,
        subject_type=queries.SUBJECT_DEAL,
        subject_id=deal.pk,
        url=f"/deals/{deal.pk}/",
        data=_deal_data(deal, **data),
    )


@transaction.atomic
def deal_create(
    *,
    actor,
    client_id: int,
    kind_id: int,
    title: str,
    owner_id: int | None = None,
    contact_id: int | None = None,
    amount=None,
    currency: str = "IDR",
    expected_close: date | None = None,
    initial_demand: str = "",
    probability: int | None = None,
    channel_id: int | None = None,
    competitor_ids: list[int] | None = None,
    reason_id: int | None = None,
    marketing_event_id: int | None = None,
    lines: list[dict] | None = None,
) -> Deal:
    """Open a deal for a visible client in the first stage of its kind
    (no stage for a status-only kind). The amount may be unknown (None).

    Raises NotFound for an invisible client, ValidationFailed for bad
    fields or an unknown/inactive kind."""
    _require(actor, "crm.add_deal")
    client = _visible_client(actor, client_id)
    errors: dict[str, list] = {}
    kind = DealKind.objects.filter(pk=kind_id, is_active=True).first()
    if kind is None:
        errors["kind_id"] = [_("Unknown deal kind.")]
    data = {
        "title": title,
        "owner_id": owner_id if owner_id is not None else actor.pk,
        "contact_id": contact_id,
        "amount": amount,
        "currency": currency,
        "expected_close": expected_close,
        "initial_demand": initial_demand,
        "probability": probability,
        "channel_id": channel_id,
        "reason_id": reason_id,
        "marketing_event_id": marketing_event_id,
    }
    _clean_deal(data, client.pk, errors)
    _check_owner(actor, data["owner_id"], None, errors)
    _check_competitors(competitor_ids, errors)
    cleaned_lines = _clean_lines(lines or [], errors)
    first = None
    if kind is not None and kind.has_stages:
        first = Stage.objects.filter(kind=kind).order_by("position", "id").first()
        if first is None:
            errors["kind_id"] = [_("This deal kind has no stages yet.")]
    if errors:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    deal = Deal.objects.create(
        client=client,
        kind=kind,
        stage=first,
        stage_entered_at=now,
        created_by=actor,
        **data,
    )
    if competitor_ids:
        deal.competitors.set(competitor_ids)
    if first is not None:
        DealStageChange.objects.create(deal=deal, to_stage=first, at=now, actor=actor)
    if cleaned_lines:
        _write_lines(deal, cleaned_lines)
    _touch_from(deal, queries.SUBJECT_DEAL)
    audit.record(actor=actor, subject=deal, action="created")
    _deal_timeline(
        actor,
        deal,
        "deal.created",
        _("Deal “%(title)s” opened (%(kind)s)") % _deal_data(deal),
    )
    publish_on_commit(DealCreated(deal.pk))
    return deal


def _editable_deal(actor, deal_id, perm: str = "crm.change_deal") -> Deal:
    _require(actor, perm)
    try:
        pk = int(deal_id)
    except (TypeError, ValueError):
        raise NotFound(_("Deal not found.")) from None
    deal = (
        locks.deals_for_update(queries.deals_visible_to(actor))
        .select_related("kind", "stage")
        .filter(pk=pk)
        .first()
    )
    if deal is None:
        raise NotFound(_("Deal not found."))
    return deal


@transaction.atomic
def deal_update(
    *,
    actor,
    deal_id: int,
    version: int | None = None,
    competitor_ids: list[int] | None = None,
    lines: list[dict] | None = None,
    **changes,
) -> Deal:
    """Change deal fields (partial). Locks the deal; VersionConflict when
    `version` is stale. Stage and status change only through their own
    services."""
    deal = _editable_deal(actor, deal_id)
    _check_version(deal, version)
    unknown = set(changes) - set(DEAL_FIELDS)
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in unknown}
    data = {k: v for k, v in changes.items() if k not in unknown}
    if "owner_id" in data and data["owner_id"] is None:
        errors["owner_id"] = [_("This field is required.")]
    _clean_deal(data, deal.client_id, errors)
    if data.get("owner_id") is not None:
        _check_owner(actor, data["owner_id"], deal.owner_id, errors)
    _check_competitors(competitor_ids, errors)
    cleaned_lines = _clean_lines(lines, errors) if lines is not None else None
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = [f.removesuffix("_id") for f in DEAL_FIELDS]
    before = audit.snapshot(deal, tracked)
    before["competitors"] = sorted(deal.competitors.values_list("name", flat=True))
    attribution = _attribution_of(deal)
    if cleaned_lines is not None:
        before["lines"] = _lines_summary(deal)
    for key, value in data.items():
        setattr(deal, key, "" if value is None and key in DEAL_TEXT else value)
    deal.version += 1
    deal.save()
    _touch_from(deal, queries.SUBJECT_DEAL, attribution)
    if cleaned_lines is not None:
        _write_lines(deal, cleaned_lines)
    if competitor_ids is not None:
        deal.competitors.set(competitor_ids)
    after = audit.snapshot(deal, tracked)
    after["competitors"] = sorted(deal.competitors.values_list("name", flat=True))
    if cleaned_lines is not None:
        after["lines"] = _lines_summary(deal)
    changed = audit.diff(before, after)
    if changed:
        audit.record(actor=actor, subject=deal, action="updated", changes=changed)
    return deal


def _check_rules(actor, deal: Deal, stages: list[Stage], override_reason: str) -> str:
    """Raise StageRulesUnmet unless the rules hold or an authorised override
    with a reason is given; returns the reason recorded ('' if none)."""
    unmet = queries.unmet_rules(deal, stages)
    if not unmet:
        return ""
    reason = (override_reason or "").strip()
    if reason:
        if not actor.has_perm("crm.override_stage_rules"):
            raise PermissionDenied(_("You may not override stage rules."))
        if len(reason) > 2000:
            raise ValidationFailed(
                fields={
                    "override_reason": [_("At most %(n)d characters.") % {"n": 2000}]
                }
            )
        return reason
    raise StageRulesUnmet(
        _("The deal cannot move on: %(rules)s") % {"rules": " ".join(unmet)},
        fields={"stage_rules": unmet},
    )


def _record_move(actor, deal: Deal, target: Stage, reason: str) -> None:
    old = deal.stage
    now = timezone.now()
    deal.stage = target
    deal.stage_entered_at = now
    deal.version += 1
    deal.save()
    DealStageChange.objects.create(
        deal=deal,
        from_stage=old,
        to_stage=target,
        at=now,
        actor=actor,
        override_reason=reason,
    )
    changes = {"stage": [old.name if old else None, target.name]}
    if reason:
        changes["override_reason"] = [None, reason]
    audit.record(actor=actor, subject=deal, action="stage_changed", changes=changes)
    names = {"from": old.name if old else "—", "to": target.name}
    _deal_timeline(
        actor,
        deal,
        "deal.stage_changed",
        _("Deal “%(title)s” moved from %(from)s to %(to)s")
        % (_deal_data(deal) | names),
        **names,
    )
    publish_on_commit(
        DealStageChanged(deal.pk, old.pk if old else None, target.pk, bool(reason))
    )


@transaction.atomic
def deal_move(
    *,
    actor,
    deal_id: int,
    stage_id: int,
    override_reason: str = "",
    by_process: bool = False,
    version: int | None = None,
) -> Deal:
    """Move a deal in work to another stage of its kind.

    A forward move checks the rules of the current stage and of every stage
    it skips ("what must be done before the next stage"); a backward move is
    free. Unmet rules raise StageRulesUnmet (409) naming each, unless the
    actor holds `crm.override_stage_rules` and gives `override_reason`
    (recorded in the history and audit). Process-driven kinds refuse manual
    moves (StageDrivenByProcess) unless `by_process`. Locks the deal."""
    deal = _editable_deal(actor, deal_id)
    _check_version(deal, version)
    if deal.status != Deal.Status.IN_WORK:
        raise DealClosed()
    mode = deal.kind.control_mode
    if mode == DealKind.ControlMode.STATUS_ONLY:
        raise DealHasNoStages()
    if mode == DealKind.ControlMode.PROCESS and not by_process:
        raise StageDrivenByProcess()
    target = Stage.objects.filter(pk=stage_id, kind_id=deal.kind_id).first()
    if target is None:
        raise ValidationFailed(
            fields={"stage_id": [_("Choose a stage of this deal's kind.")]}
        )
    if target.pk == deal.stage_id:
        return deal
    reason = ""
    current = deal.stage
    if (target.position, target.pk) > (current.position, current.pk):
        passed = [
            s
            for s in queries.stages_of(deal.kind)
            if (current.position, current.pk)
            <= (s.position, s.pk)
            < (target.position, target.pk)
        ]
        reason = _check_rules(actor, deal, passed, override_reason)
    _record_move(actor, deal, target, reason)
    return deal


@transaction.atomic
def deal_approve(*, actor, deal_id: int, rule_id: int) -> DealApproval:
    """Record the actor's approval for an approval rule of the deal's kind.

    The actor must belong to the rule's role. Raises ValidationFailed for a
    rule that is not an approval rule of this kind, PermissionDenied for
    someone outside the role."""
    deal = _editable_deal(actor, deal_id, perm="crm.view_deal")
    rule = (
        StageRule.objects.filter(
            pk=rule_id,
            stage__kind_id=deal.kind_id,
            rule_type=StageRule.Type.APPROVAL,
        )
        .select_related("stage")
        .first()
    )
    if rule is None:
        raise ValidationFailed(
            fields={"rule_id": [_("Not an approval rule of this deal.")]}
        )
    if deal.status != Deal.Status.IN_WORK:
        raise DealClosed()
    if not (actor.is_superuser or actor.groups.filter(name=rule.role_code).exists()):
        raise PermissionDenied(_("Only this rule's role may approve."))
    approval = DealApproval.objects.create(deal=deal, rule=rule, approved_by=actor)
    audit.record(
        actor=actor,
        subject=deal,
        action="approved",
        changes={"approval": [None, f"{rule.stage.name}: {rule.role_code}"]},
    )
    return approval


@transaction.atomic
def deal_win(
    *, actor, deal_id: int, override_reason: str = "", by_process: bool = False
) -> Deal:
    """Close a deal as won. With stages, the rules of the current stage and
    every later stage must hold (or be overridden, as in `deal_move`);
    process-driven kinds are won by their process (`by_process`)."""
    deal = _editable_deal(actor, deal_id)
    if deal.status != Deal.Status.IN_WORK:
        raise DealClosed()
    if deal.kind.control_mode == DealKind.ControlMode.PROCESS and not by_process:
        raise StageDrivenByProcess()
    reason = ""
    if deal.stage_id:
        current = deal.stage
        rest = [
            s
            for s in queries.stages_of(deal.kind)
            if (s.position, s.pk) >= (current.position, current.pk)
        ]
        reason = _check_rules(actor, deal, rest, override_reason)
    deal.status = Deal.Status.WON
    deal.closed_at = timezone.now()
    deal.version += 1
    deal.save()
    changes = {"status": [Deal.Status.IN_WORK, Deal.Status.WON]}
    if reason:
        changes["override_reason"] = [None, reason]
    audit.record(actor=actor, subject=deal, action="won", changes=changes)
    _deal_timeline(
        actor, deal, "deal.won", _("Deal “%(title)s” won") % _deal_data(deal)
    )
    publish_on_commit(DealWon(deal.pk))
    return deal


@transaction.atomic
def deal_lose(
    *,
    actor,
    deal_id: int,
    loss_reason_id: int | None,
    competitor_id: int | None = None,
    note: str = "",
    unmet_lines: list[dict] | None = None,
) -> Deal:
    """Close a deal as lost; the loss reason is required, the stage where
    it was lost is recorded, and `competitor_id` says to whom.
    `unmet_lines=[{"line_id", "unmet_reason_id", "note"}]` records why the
    demand of product lines was not met (CRM-4)."""
    deal = _editable_deal(actor, deal_id)
    if deal.status != Deal.Status.IN_WORK:
        raise DealClosed()
    errors: dict[str, list] = {}
    reason = None
    if loss_reason_id is None:
        errors["loss_reason_id"] = [_("Choose why the deal was lost.")]
    else:
        reason = LossReason.objects.filter(pk=loss_reason_id, is_active=True).first()
        if reason is None:
            errors["loss_reason_id"] = [_("Unknown loss reason.")]
    competitor = None
    if competitor_id is not None:
        competitor = Competitor.objects.filter(pk=competitor_id).first()
        if competitor is None:
            errors["competitor_id"] = [_("Unknown competitor.")]
    note = (note or "").strip()
    if len(note) > 10000:
        errors["note"] = [_("At most %(n)d characters.") % {"n": 10000}]
    unmet = _clean_unmet_lines(deal, unmet_lines or [], errors)
    if errors:
        raise ValidationFailed(_("The deal cannot be closed as lost."), fields=errors)
    for line, reason_id, line_note in unmet:
        line.unmet_reason_id = reason_id
        line.unmet_note = line_note
        line.save(update_fields=["unmet_reason", "unmet_note"])
    deal.status = Deal.Status.LOST
    deal.closed_at = timezone.now()
    deal.loss_reason = reason
    deal.lost_at_stage = deal.stage
    deal.won_to = competitor
    deal.loss_note = note
    deal.version += 1
    deal.save()
    if competitor is not None:
        deal.competitors.add(competitor)
    audit.record(
        actor=actor,
        subject=deal,
        action="lost",
        changes={
            "status": [Deal.Status.IN_WORK, Deal.Status.LOST],
            "loss_reason": [None, reason.name],
            "won_to": [None, competitor.name if competitor else None],
        },
    )
    _deal_timeline(
        actor,
        deal,
        "deal.lost",
        _("Deal “%(title)s” lost: %(reason)s") % _deal_data(deal, reason=reason.name),
        reason=reason.name,
    )
    publish_on_commit(
        DealLost(deal.pk, reason.pk, competitor.pk if competitor else None)
    )
    return deal


@transaction.atomic
def deal_reopen(*, actor, deal_id: int) -> Deal:
    """Put a won or lost deal back in work at the stage it had; the loss
    details are cleared (the audit trail keeps them)."""
    deal = _editable_deal(actor, deal_id)
    if deal.status == Deal.Status.IN_WORK:
        raise DealNotClosed()
    old = deal.status
    deal.status = Deal.Status.IN_WORK
    deal.closed_at = None
    deal.loss_reason = None
    deal.lost_at_stage = None
    deal.won_to = None
    deal.loss_note = ""
    deal.version += 1
    deal.save()
    audit.record(
        actor=actor,
        subject=deal,
        action="reopened",
        changes={"status": [old, Deal.Status.IN_WORK]},
    )
    _deal_timeline(
        actor, deal, "deal.reopened", _("Deal “%(title)s” reopened") % _deal_data(deal)
    )
    return deal


def merge_clients(*, actor, merged, survivor) -> None:
    """Parties merge handler: deals and interactions follow the survivor."""
    Deal.objects.filter(client=merged).update(client=survivor)
    Interaction.objects.filter(client=merged).update(client=survivor)
    # Marketing history follows too, so first-touch attribution survives.
    Touch.objects.filter(client=merged).update(client=survivor)
    Lead.objects.filter(client=merged).update(client=survivor)
    EventParticipant.objects.filter(client=merged).update(client=survivor)


# ================================================================ configuration


def _name(value, limit, errors, key="name") -> str:
    value = (value or "").strip()
    if not value:
        errors[key] = [_("This field is required.")]
    elif len(value) > limit:
        errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
    return value


def _clean_rule(rule: dict, errors: dict, key: str) -> dict:
    rule_type = rule.get("rule_type")
    clean = {
        "rule_type": rule_type,
        "field_name": rule.get("field_name") or "",
        "interaction_kind": rule.get("interaction_kind") or "",
        "role_code": rule.get("role_code") or "",
    }
    if rule_type == StageRule.Type.REQUIRED_FIELD:
        if clean["field_name"] not in queries.RULE_FIELDS:
            errors[f"{key}.field_name"] = [
                _("Choose one of: %(c)s.") % {"c": ", ".join(queries.RULE_FIELDS)}
            ]
    elif rule_type == StageRule.Type.INTERACTION:
        if clean["interaction_kind"] not in Interaction.Kind.values:
            errors[f"{key}.interaction_kind"] = [
                _("Choose one of: %(c)s.") % {"c": ", ".join(Interaction.Kind.values)}
            ]
    elif rule_type == StageRule.Type.DOCUMENT:
        # field_name names the document in the message ("signed contract").
        if len(clean["field_name"]) > 40:
            errors[f"{key}.field_name"] = [_("At most %(n)d characters.") % {"n": 40}]
    elif rule_type == StageRule.Type.APPROVAL:
        from satu.core.roles import ROLES

        if clean["role_code"] not in ROLES:
            errors[f"{key}.role_code"] = [
                _("Choose one of: %(c)s.") % {"c": ", ".join(ROLES)}
            ]
    else:
        errors[f"{key}.rule_type"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(StageRule.Type.values)}
        ]
    return clean


@transaction.atomic
def deal_kind_create(
    *, actor, name: str, control_mode: str, stages: list[dict] | None = None
) -> DealKind:
    """Create a deal kind with its ordered stages and their rules
    (`stages=[{"name", "probability", "rules": [{"rule_type", ...}]}]`)."""
    _require(actor, "crm.add_dealkind")
    errors: dict[str, list] = {}
    name = _name(name, 100, errors)
    if name and DealKind.objects.filter(name=name).exists():
        errors["name"] = [_("A deal kind with this name exists.")]
    if control_mode not in DealKind.ControlMode.values:
        errors["control_mode"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(DealKind.ControlMode.values)}
        ]
    stages = stages or []
    if control_mode == DealKind.ControlMode.STATUS_ONLY and stages:
        errors["stages"] = [_("A status-only kind has no stages.")]
    elif (
        control_mode in DealKind.ControlMode.values
        and control_mode != (DealKind.ControlMode.STATUS_ONLY)
        and not stages
    ):
        errors["stages"] = [_("Give at least one stage.")]
    cleaned = []
    for i, stage in enumerate(stages):
        stage_name = _name(stage.get("name"), 100, errors, f"stages.{i}.name")
        probability = stage.get("probability", 0) or 0
        if not 0 <= probability <= 100:
            errors[f"stages.{i}.probability"] = [_("Enter a percentage from 0 to 100.")]
        rules = [
            _clean_rule(rule, errors, f"stages.{i}.rules.{j}")
            for j, rule in enumerate(stage.get("rules") or [])
        ]
        cleaned.append((stage_name, probability, rules))
    if errors:
        raise ValidationFailed(fields=errors)
    kind = DealKind.objects.create(name=name, control_mode=control_mode)
    for position, (stage_name, probability, rules) in enumerate(cleaned, start=1):
        stage = Stage.objects.create(
            kind=kind, name=stage_name, position=position, probability=probability
        )
        StageRule.objects.bulk_create(StageRule(stage=stage, **r) for r in rules)
    audit.record(actor=actor, subject=kind, action="created")
    return kind


@transaction.atomic
def stage_create(
    *, actor, kind_id: int, name: str, probability: int = 0, position: int | None = None
) -> Stage:
    """Append a stage to a kind (or insert it at `position`, shifting later ones)."""
    _require(actor, "crm.add_dealkind")
    kind = DealKind.objects.select_for_update().filter(pk=kind_id).first()
    if kind is None:
        raise NotFound(_("Deal kind not found."))
    errors: dict[str, list] = {}
    name = _name(name, 100, errors)
    if not 0 <= (probability or 0) <= 100:
        errors["probability"] = [_("Enter a percentage from 0 to 100.")]
    if kind.control_mode == DealKind.ControlMode.STATUS_ONLY:
        errors["kind_id"] = [_("A status-only kind has no stages.")]
    if errors:
        raise ValidationFailed(fields=errors)
    existing = list(Stage.objects.filter(kind=kind).order_by("-position"))
    last = existing[0].position if existing else 0
    if position is None or position > last:
        position = last + 1
    # Shift from the end so the unique (kind, position) holds at each step.
    for stage in existing:
        if stage.position >= position:
            stage.position += 1
            stage.save(update_fields=["position"])
    stage = Stage.objects.create(
        kind=kind, name=name, position=max(position, 1), probability=probability or 0
    )
    audit.record(
        actor=actor, subject=kind, action="updated", changes={"stage": [None, name]}
    )
    return stage


@transaction.atomic
def stage_rule_create(*, actor, stage_id: int, **rule) -> StageRule:
    """Add a rule to a stage (see StageRule.Type for the kinds of rules)."""
    _require(actor, "crm.add_dealkind")
    stage = Stage.objects.select_related("kind").filter(pk=stage_id).first()
    if stage is None:
        raise NotFound(_("Stage not found."))
    errors: dict[str, list] = {}
    clean = _clean_rule(rule, errors, "rule")
    if errors:
        raise ValidationFailed(
            fields={k.removeprefix("rule."): v for k, v in errors.items()}
        )
    created = StageRule.objects.create(stage=stage, **clean)
    audit.record(
        actor=actor,
        subject=stage.kind,
        action="updated",
        changes={"rule": [None, f"{stage.name}: {clean['rule_type']}"]},
    )
    return created


def _simple_create(actor, model, perm, name, limit=100, **extra):
    _require(actor, perm)
    errors: dict[str, list] = {}
    name = _name(name, limit, errors)
    if name and model.objects.filter(name=name).exists():
        errors["name"] = [_("This name is already used.")]
    if errors:
        raise ValidationFailed(fields=errors)
    obj = model.objects.create(name=name, **extra)
    audit.record(actor=actor, subject=obj, action="created")
    return obj


@transaction.atomic
def loss_reason_create(*, actor, name: str) -> LossReason:
    return _simple_create(actor, LossReason, "crm.add_lossreason", name)


@transaction.atomic
def contact_reason_create(*, actor, name: str) -> ContactReason:
    return _simple_create(actor, ContactReason, "crm.add_contactreason", name)


@transaction.atomic
def competitor_create(
    *, actor, name: str, website: str = "", notes: str = ""
) -> Competitor:
    if len(website or "") > 200:
        raise ValidationFailed(
            fields={"website": [_("At most %(n)d characters.") % {"n": 200}]}
        )
    return _simple_create(
        actor,
        Competitor,
        "crm.add_competitor",
        name,
        limit=200,
        website=(website or "").strip(),
        notes=(notes or "").strip(),
    )


# ================================================================ claims (CRM-7)

from satu.core import numbering  # noqa: E402
from satu.crm.errors import ClaimBadTransition  # noqa: E402
from satu.crm.models import Claim, ClaimCategory  # noqa: E402

CLAIM_PREFIX = "CLM"
# state -> the states a claim may move to from it.
CLAIM_TRANSITIONS = {
    Claim.State.REGISTERED: (Claim.State.INVESTIGATING,),
    Claim.State.INVESTIGATING: (Claim.State.DECISION,),
    Claim.State.DECISION: (Claim.State.INVESTIGATING, Claim.State.CLOSED),
    Claim.State.CLOSED: (),
}
CLAIM_FIELDS = [
    "category_id",
    "description",
    "product_ref",
    "responsible_id",
    "deadline",
    "deal_id",
    "interaction_id",
    "channel_id",
    "reason_id",
    "marketing_event_id",
]
CLAIM_TEXT = {"description": 20000, "product_ref": 200, "outcome": 20000}


def _claim_data(claim: Claim) -> dict:
    return {
        "number": claim.number,
        "state": claim.state,
        "decision": claim.decision,
    }


def _claim_timeline(actor, claim: Claim, event: str, summary: str, **extra) -> None:
    timeline_record(
        client_id=claim.client_id,
        kind=f"claim.{event}",
        actor=actor,
        summary=summary,
        subject_type=queries.SUBJECT_CLAIM,
        subject_id=claim.pk,
        url=f"/claims/{claim.pk}/",
        data=_claim_data(claim) | extra,
    )


def _clean_claim(actor, data: dict, client_id: int, errors: dict) -> None:
    _text(data, CLAIM_TEXT, errors)
    if "description" in data and not data.get("description"):
        errors["description"] = [_("This field is required.")]
    if "category_id" in data:
        if data["category_id"] is None:
            errors["category_id"] = [_("This field is required.")]
        else:
            _known_active = ClaimCategory.objects.filter(
                pk=data["category_id"], is_active=True
            ).exists()
            if not _known_active:
                errors["category_id"] = [_("Unknown claim category.")]
    if "responsible_id" in data:
        if data["responsible_id"] is None:
            errors["responsible_id"] = [_("This field is required.")]
        else:
            _active_user(data["responsible_id"], errors, "responsible_id")
    if "deadline" in data and data["deadline"] is None:
        errors["deadline"] = [_("This field is required.")]
    if data.get("deal_id") is not None and (
        not queries.deals_visible_to(actor)
        .filter(pk=data["deal_id"], client_id=client_id)
        .exists()
    ):
        errors["deal_id"] = [_("Choose a deal of this client.")]
    if data.get("interaction_id") is not None and (
        not queries.interactions_visible_to(actor)
        .filter(pk=data["interaction_id"], client_id=client_id)
        .exists()
    ):
        errors["interaction_id"] = [_("Choose an interaction of this client.")]
    _check_attribution(data, errors)


@transaction.atomic
def claim_create(
    *,
    actor,
    client_id: int | None,
    category_id: int | None,
    description: str,
    deadline: date | None,
    responsible_id: int | None = None,
    deal_id: int | None = None,
    interaction_id: int | None = None,
    product_ref: str = "",
    channel_id: int | None = None,
    reason_id: int | None = None,
    marketing_event_id: int | None = None,
) -> Claim:
    """Register a client's claim with the next CLM-<year>-NNNN number.

    The client must be visible to the actor (NotFound otherwise); the deal
    and interaction, when given, must belong to that client; the deadline
    may not be in the past (ValidationFailed). The number comes from a
    locked per-year counter, so numbers are gapless and unique. Appends to
    the audit trail and the client timeline."""
    _require(actor, "crm.add_claim")
    if client_id is None:
        raise ValidationFailed(fields={"client_id": [_("This field is required.")]})
    client = _visible_client(actor, client_id)
    errors: dict[str, list] = {}
    data = {
        "category_id": category_id,
        "description": description,
        "product_ref": product_ref or "",
        "responsible_id": responsible_id if responsible_id is not None else actor.pk,
        "deadline": deadline,
        "deal_id": deal_id,
        "interaction_id": interaction_id,
        "channel_id": channel_id,
        "reason_id": reason_id,
        "marketing_event_id": marketing_event_id,
    }
    _clean_claim(actor, data, client.pk, errors)
    if deadline is not None and deadline < timezone.localdate():
        errors["deadline"] = [_("The deadline cannot be in the past.")]
    if errors:
        raise ValidationFailed(_("The claim cannot be registered."), fields=errors)
    year = timezone.localdate().year
    number = numbering.formatted(
        CLAIM_PREFIX, year, numbering.next_number(CLAIM_PREFIX, year)
    )
    claim = Claim.objects.create(number=number, client=client, created_by=actor, **data)
    _touch_from(claim, queries.SUBJECT_CLAIM)
    audit.record(actor=actor, subject=claim, action="created")
    _claim_timeline(
        actor,
        claim,
        "created",
        _("Claim %(number)s registered") % _claim_data(claim),
    )
    return claim


def _editable_claim(actor, claim_id) -> Claim:
    _require(actor, "crm.change_claim")
    try:
        pk = int(claim_id)
    except (TypeError, ValueError):
        raise NotFound(_("Claim not found.")) from None
    found = (
        queries.claims_visible_to(actor)
        .order_by("pk")
        .select_for_update(of=("self",))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("Claim not found."))
    return found


@transaction.atomic
def claim_update(
    *, actor, claim_id: int, version: int | None = None, **changes
) -> Claim:
    """Change fields of a claim (not its client, number or state).

    Locks the claim. Raises VersionConflict on a stale `version`,
    ValidationFailed for bad fields (a deadline may be moved into the past
    only if it was already there: overdue claims stay editable)."""
    claim = _editable_claim(actor, claim_id)
    _check_version(claim, version)
    unknown = set(changes) - set(CLAIM_FIELDS)
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in unknown}
    data = {k: v for k, v in changes.items() if k not in unknown}
    _clean_claim(actor, data, claim.client_id, errors)
    new_deadline = data.get("deadline")
    if (
        new_deadline is not None
        and new_deadline != claim.deadline
        and new_deadline < timezone.localdate()
    ):
        errors["deadline"] = [_("The deadline cannot be in the past.")]
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = [f.removesuffix("_id") for f in CLAIM_FIELDS]
    before = audit.snapshot(claim, tracked)
    attribution = _attribution_of(claim)
    for key, value in data.items():
        setattr(claim, key, "" if value is None and key in CLAIM_TEXT else value)
    claim.version += 1
    claim.save()
    _touch_from(claim, queries.SUBJECT_CLAIM, attribution)
    changed = audit.diff(before, audit.snapshot(claim, tracked))
    if changed:
        audit.record(actor=actor, subject=claim, action="updated", changes=changed)
    return claim


@transaction.atomic
def claim_transition(
    *,
    actor,
    claim_id: int,
    state: str,
    decision: str = "",
    outcome: str = "",
    version: int | None = None,
) -> Claim:
    """Move a claim along registered → investigating → decision → closed
    (decision may go back to investigating).

    Moving to "decision" requires `decision` (refund / replacement /
    repair / rejected); closing requires `outcome` notes. An illegal move
    raises ClaimBadTransition (409) naming the allowed states. Locks the
    claim; audited and on the client timeline."""
    claim = _editable_claim(actor, claim_id)
    _check_version(claim, version)
    allowed = CLAIM_TRANSITIONS[Claim.State(claim.state)]
    if state not in allowed:
        names = ", ".join(allowed) or "—"
        raise ClaimBadTransition(
            _("A claim in state “%(state)s” can move only to: %(allowed)s.")
            % {"state": claim.get_state_display(), "allowed": names},
            fields={"state": [_("Allowed: %(allowed)s.") % {"allowed": names}]},
        )
    errors: dict[str, list] = {}
    decision = (decision or "").strip()
    outcome = (outcome or "").strip()
    if len(outcome) > CLAIM_TEXT["outcome"]:
        errors["outcome"] = [_("At most %(n)d characters.") % {"n": 20000}]
    if state == Claim.State.DECISION:
        if not decision:
            errors["decision"] = [_("Choose the decision.")]
        elif decision not in Claim.Decision.values:
            errors["decision"] = [
                _("Choose one of: %(c)s.") % {"c": ", ".join(Claim.Decision.values)}
            ]
    if state == Claim.State.CLOSED and not outcome:
        errors["outcome"] = [_("Describe the outcome to close the claim.")]
    if errors:
        raise ValidationFailed(_("The claim cannot move on."), fields=errors)
    before = audit.snapshot(claim, ["state", "decision", "outcome"])
    old = claim.state
    claim.state = state
    if state == Claim.State.DECISION:
        claim.decision = decision
    if state == Claim.State.CLOSED:
        claim.outcome = outcome
        claim.closed_at = timezone.now()
    elif outcome:
        claim.outcome = outcome
    claim.version += 1
    claim.save()
    audit.record(
        actor=actor,
        subject=claim,
        action="state_changed",
        changes=audit.diff(
            before, audit.snapshot(claim, ["state", "decision", "outcome"])
        ),
    )
    _claim_timeline(
        actor,
        claim,
        "state_changed",
        _("Claim %(number)s: %(from)s → %(to)s")
        % {
            "number": claim.number,
            "from": Claim.State(old).label,
            "to": claim.get_state_display(),
        },
        **{"from": old, "to": claim.state},
    )
    return claim


@transaction.atomic
def claim_category_create(*, actor, name: str) -> ClaimCategory:
    return _simple_create(actor, ClaimCategory, "crm.add_claimcategory", name)


# ================================================================ tasks (CRM-5)

import secrets  # noqa: E402
from datetime import datetime  # noqa: E402

from satu.crm.errors import TaskStateInvalid  # noqa: E402
from satu.crm.models import CalendarFeed, Task  # noqa: E402

TASK_TEXT = {"title": 200, "description": 20000}
TASK_FIELDS = [
    "title",
    "description",
    "client_id",
    "deal_id",
    "responsible_id",
    "due_at",
    "remind_at",
]


def _moment(data: dict, key: str, errors: dict, required: bool = False) -> None:
    value = data.get(key)
    if value is None or value == "":
        data[key] = None
        if required:
            errors[key] = [_("This field is required.")]
        return
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            errors[key] = [_("Enter a valid date and time.")]
            return
    if not isinstance(value, datetime):
        errors[key] = [_("Enter a valid date and time.")]
        return
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    data[key] = value


def _clean_task(actor, data: dict, errors: dict) -> None:
    """Normalise `data` (a full set of task fields) in place."""
    _text(data, TASK_TEXT, errors)
    if not data.get("title"):
        errors["title"] = [_("This field is required.")]
    _moment(data, "due_at", errors, required=True)
    _moment(data, "remind_at", errors)
    if data.get("responsible_id") is None:
        errors["responsible_id"] = [_("This field is required.")]
    else:
        _active_user(data["responsible_id"], errors, "responsible_id")
    client_id, deal_id = data.get("client_id"), data.get("deal_id")
    if client_id is not None:
        # Raises NotFound: an invisible client is indistinguishable from none.
        data["client_id"] = _visible_client(actor, client_id).pk
    if deal_id is not None:
        deal = queries.deals_visible_to(actor).filter(pk=deal_id).first()
        if deal is None:
            errors["deal_id"] = [_("Deal not found.")]
        elif data.get("client_id") is None:
            data["client_id"] = deal.client_id
        elif deal.client_id != data["client_id"]:
            errors["deal_id"] = [_("The deal belongs to another client.")]


def _task_data(task: Task) -> dict:
    return {"title": task.title, "state": task.state}


def _task_timeline(actor, task: Task, event: str) -> None:
    if task.client_id is None:
        return
    timeline_record(
        client_id=task.client_id,
        kind=f"task.{event}",
        actor=actor,
        summary=task.title,
        subject_type="crm.task",
        subject_id=task.pk,
        url=f"/tasks/{task.pk}/",
        data=_task_data(task),
    )


@transaction.atomic
def task_create(
    *,
    actor,
    title: str,
    due_at,
    description: str = "",
    client_id: int | None = None,
    deal_id: int | None = None,
    responsible_id: int | None = None,
    remind_at=None,
) -> Task:
    """Create an open task (responsible defaults to the actor).

    A deal given without a client brings its client. Audited; appears on the
    client's timeline. Raises NotFound for an invisible client,
    ValidationFailed for bad fields (a deal of another client included),
    PermissionDenied without `crm.add_task`."""
    _require(actor, "crm.add_task")
    data = {
        "title": title,
        "description": description or "",
        "client_id": client_id,
        "deal_id": deal_id,
        "responsible_id": actor.pk if responsible_id is None else responsible_id,
        "due_at": due_at,
        "remind_at": remind_at,
    }
    errors: dict[str, list] = {}
    _clean_task(actor, data, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    task = Task.objects.create(created_by=actor, **data)
    audit.record(actor=actor, subject=task, action="created")
    _task_timeline(actor, task, "created")
    return task


def _editable_task(actor, task_id) -> Task:
    _require(actor, "crm.change_task")
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        raise NotFound(_("Task not found.")) from None
    found = queries.tasks_visible_to(actor).select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Task not found."))
    return found


@transaction.atomic
def task_update(*, actor, task_id: int, version: int | None = None, **changes) -> Task:
    """Change fields of an open task. Moving its due or reminder time arms
    the e-mail reminder again.

    Locks the task. Raises VersionConflict on a stale `version`,
    TaskStateInvalid unless open, ValidationFailed for bad/unknown fields."""
    task = _editable_task(actor, task_id)
    _check_version(task, version)
    if task.state != Task.State.OPEN:
        raise TaskStateInvalid()
    unknown = set(changes) - set(TASK_FIELDS)
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in unknown}
    merged = {f: getattr(task, f) for f in TASK_FIELDS} | {
        k: v for k, v in changes.items() if k not in unknown
    }
    _clean_task_update(actor, task, merged, changes, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = [f.removesuffix("_id") for f in TASK_FIELDS]
    before = audit.snapshot(task, tracked)
    for key in TASK_FIELDS:
        setattr(task, key, merged[key])
    if "due_at" in changes or "remind_at" in changes:
        task.reminder_sent_at = None
    task.version += 1
    task.save()
    changed = audit.diff(before, audit.snapshot(task, tracked))
    if changed:
        audit.record(actor=actor, subject=task, action="updated", changes=changed)
    return task


def _clean_task_update(actor, task, merged, changes, errors) -> None:
    # Skip the visibility check of a client the actor did not touch: a task
    # he is responsible for may belong to a client he cannot see.
    keep_client = "client_id" not in changes and "deal_id" not in changes
    if keep_client:
        client_id, deal_id = merged.pop("client_id"), merged.pop("deal_id")
        merged["client_id"] = merged["deal_id"] = None
    _clean_task(actor, merged, errors)
    if keep_client:
        merged["client_id"], merged["deal_id"] = client_id, deal_id


def _close_task(actor, task_id, state: str) -> Task:
    task = _editable_task(actor, task_id)
    if task.state != Task.State.OPEN:
        raise TaskStateInvalid()
    task.state = state
    if state == Task.State.DONE:
        task.done_at = timezone.now()
    task.version += 1
    task.save()
    event = "completed" if state == Task.State.DONE else "cancelled"
    audit.record(
        actor=actor,
        subject=task,
        action=event,
        changes={"state": [Task.State.OPEN, state]},
    )
    _task_timeline(actor, task, event)
    return task


@transaction.atomic
def task_complete(*, actor, task_id: int) -> Task:
    """Mark an open task done. Locks it; raises TaskStateInvalid otherwise."""
    return _close_task(actor, task_id, Task.State.DONE)


@transaction.atomic
def task_cancel(*, actor, task_id: int) -> Task:
    """Cancel an open task. Locks it; raises TaskStateInvalid otherwise."""
    return _close_task(actor, task_id, Task.State.CANCELLED)


def task_mark_reminded(*, task_ids: list[int]) -> int:
    """Flag tasks whose reminder e-mail went out (system write, no actor)."""
    return Task.objects.filter(pk__in=task_ids, reminder_sent_at=None).update(
        reminder_sent_at=timezone.now()
    )


@transaction.atomic
def calendar_feed_create(*, actor) -> CalendarFeed:
    """A new secret iCalendar link for the actor (older links stay valid
    until revoked)."""
    features.require(FEATURE)
    feed = CalendarFeed.objects.create(user=actor, token=secrets.token_urlsafe(32))
    audit.record(actor=actor, subject=feed, action="created")
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor, feed_id: int) -> None:
    """Delete one of the actor's calendar links. Raises NotFound otherwise."""
    features.require(FEATURE)
    feed = CalendarFeed.objects.filter(pk=feed_id, user=actor).first()
    if feed is None:
        raise NotFound(_("Calendar link not found."))
    audit.record(actor=actor, subject=feed, action="revoked")
    feed.delete()


# ============================================ marketing, attribution, leads
# (CRM-3 leads, CRM-4 deal lines, CRM-6 marketing events, P6 attribution)

from satu.core.identifiers import normalize_email, normalize_phone  # noqa: E402
from satu.core.money import currency_valid  # noqa: E402
from satu.crm.errors import LeadFormClosed, LeadNotNew  # noqa: E402
from satu.crm.events import LeadCreated, LeadQualified  # noqa: E402
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
from satu.parties.errors import PossibleDuplicate  # noqa: E402

EVENT_TEXT = {"name": 200, "description": 20000}
EVENT_FIELDS = [
    "name",
    "kind",
    "channel_id",
    "starts_on",
    "ends_on",
    "budget",
    "currency",
    "responsible_id",
    "description",
]
LEAD_TEXT = {
    "company_name": 200,
    "person_name": 200,
    "email": 254,
    "phone": 64,
    "message": 20000,
    "number": 40,
}
LEAD_FIELDS = [
    "number",
    "company_name",
    "person_name",
    "email",
    "phone",
    "message",
    "channel_id",
    "marketing_event_id",
    "reason_id",
    "owner_id",
]
MAX_AMOUNT = Decimal(10) ** 16


def _amount(value, errors: dict, key: str, *, required: bool = False):
    """A non-negative Decimal with 4 places, or None; errors[key] otherwise."""
    if value is None or value == "":
        if required:
            errors[key] = [_("This field is required.")]
        return None
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[key] = [_("Enter a number.")]
        return None
    if amount < 0 or amount >= MAX_AMOUNT:
        errors[key] = [_("Enter a non-negative amount.")]
        return None
    return amount.quantize(Decimal("0.0001"))


def _currency(value, errors: dict, key: str = "currency") -> str:
    currency = (value or "").strip().upper()
    if not currency_valid(currency):
        errors[key] = [_("Use a three-letter currency code, e.g. IDR.")]
    return currency


def _check_attribution(data: dict, errors: dict) -> None:
    """Channel, reason for contact and marketing event ids must exist."""
    _known(Channel, data.get("channel_id"), errors, "channel_id", _("Unknown channel."))
    _known(
        ContactReason,
        data.get("reason_id"),
        errors,
        "reason_id",
        _("Unknown reason for contact."),
    )
    _known(
        MarketingEvent,
        data.get("marketing_event_id"),
        errors,
        "marketing_event_id",
        _("Unknown marketing event."),
    )


def _attribution_of(obj) -> tuple:
    return (
        getattr(obj, "channel_id", None),
        getattr(obj, "marketing_event_id", None),
        getattr(obj, "reason_id", None),
    )


def touch_record(
    *,
    client_id: int,
    source_type: str,
    source_id: int,
    channel_id: int | None = None,
    event_id: int | None = None,
    reason_id: int | None = None,
    at=None,
) -> Touch | None:
    """Append a marketing touch to the client's history (P6); called by the
    services inside their transaction when a record with a channel, event or
    reason is created or refined. Without any of the three nothing is
    recorded. A touch with an event but no channel takes the event's channel
    (so channel ROI includes its events). Never changes the client."""
    if channel_id is None and event_id is None and reason_id is None:
        return None
    if channel_id is None and event_id is not None:
        channel_id = (
            MarketingEvent.objects.filter(pk=event_id)
            .values_list("channel_id", flat=True)
            .first()
        )
    return Touch.objects.create(
        client_id=client_id,
        channel_id=channel_id,
        event_id=event_id,
        reason_id=reason_id,
        source_type=source_type,
        source_id=source_id,
        at=at or timezone.now(),
    )


def _touch_from(obj, source_type: str, before: tuple | None = None) -> None:
    """Touch for a created record (`before` None) or a refined one (only when
    its channel/event/reason changed)."""
    after = _attribution_of(obj)
    if before is not None and before == after:
        return
    touch_record(
        client_id=obj.client_id,
        source_type=source_type,
        source_id=obj.pk,
        channel_id=after[0],
        event_id=after[1],
        reason_id=after[2],
    )


# ---------------------------------------------------------------- events


def _require_marketing(actor) -> None:
    _require(actor, "crm.change_marketingevent")


def _clean_event(data: dict, errors: dict, current: MarketingEvent | None) -> None:
    _text(data, EVENT_TEXT, errors)
    if "name" in data and not data.get("name"):
        errors["name"] = [_("This field is required.")]
    if "kind" in data and data["kind"] not in MarketingEvent.Kind.values:
        errors["kind"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(MarketingEvent.Kind.values)}
        ]
    for key in ("starts_on", "ends_on"):
        if key in data and data[key] is None:
            errors[key] = [_("This field is required.")]
    if "budget" in data:
        data["budget"] = _amount(data["budget"], errors, "budget")
    if "currency" in data:
        data["currency"] = _currency(data["currency"], errors)
    if "responsible_id" in data:
        if data["responsible_id"] is None:
            errors["responsible_id"] = [_("This field is required.")]
        else:
            _active_user(data["responsible_id"], errors, "responsible_id")
    _known(Channel, data.get("channel_id"), errors, "channel_id", _("Unknown channel."))
    starts = data.get("starts_on", current.starts_on if current else None)
    ends = data.get("ends_on", current.ends_on if current else None)
    if starts and ends and ends < starts:
        errors["ends_on"] = [_("The event ends before it starts.")]


@transaction.atomic
def marketing_event_create(
    *,
    actor,
    name: str,
    kind: str,
    starts_on: date | None,
    ends_on: date | None = None,
    channel_id: int | None = None,
    budget=None,
    currency: str = "IDR",
    responsible_id: int | None = None,
    description: str = "",
) -> MarketingEvent:
    """Plan a marketing event (exhibition, seminar, webinar, ad campaign).

    `ends_on` defaults to `starts_on`. Raises ValidationFailed for bad fields
    (an end before the start, a negative budget), PermissionDenied without
    `crm.add_marketingevent` (marketer, head of sales). Audited."""
    _require(actor, "crm.add_marketingevent")
    data = {
        "name": name,
        "kind": kind,
        "starts_on": starts_on,
        "ends_on": ends_on if ends_on is not None else starts_on,
        "channel_id": channel_id,
        "budget": budget,
        "currency": currency,
        "responsible_id": responsible_id if responsible_id is not None else actor.pk,
        "description": description or "",
    }
    errors: dict[str, list] = {}
    _clean_event(data, errors, None)
    if errors:
        raise ValidationFailed(fields=errors)
    event = MarketingEvent.objects.create(created_by=actor, **data)
    audit.record(actor=actor, subject=event, action="created")
    return event


def _editable_event(actor, event_id) -> MarketingEvent:
    _require_marketing(actor)
    try:
        pk = int(event_id)
    except (TypeError, ValueError):
        raise NotFound(_("Marketing event not found.")) from None
    event = locks.marketing_events_for_update(
        MarketingEvent.objects.filter(pk=pk)
    ).first()
    if event is None:
        raise NotFound(_("Marketing event not found."))
    return event


@transaction.atomic
def marketing_event_update(
    *, actor, event_id: int, version: int | None = None, **changes
) -> MarketingEvent:
    """Change fields of a marketing event. Locks it; VersionConflict when
    `version` is stale; ValidationFailed as in `marketing_event_create`."""
    event = _editable_event(actor, event_id)
    _check_version(event, version)
    unknown = set(changes) - set(EVENT_FIELDS)
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in unknown}
    data = {k: v for k, v in changes.items() if k not in unknown}
    _clean_event(data, errors, event)
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = [f.removesuffix("_id") for f in EVENT_FIELDS]
    before = audit.snapshot(event, tracked)
    for key, value in data.items():
        setattr(event, key, "" if value is None and key in EVENT_TEXT else value)
    event.version += 1
    event.save()
    changed = audit.diff(before, audit.snapshot(event, tracked))
    if changed:
        audit.record(actor=actor, subject=event, action="updated", changes=changed)
    return event


@transaction.atomic
def marketing_cost_create(
    *,
    actor,
    amount,
    date: date | None,
    event_id: int | None = None,
    channel_id: int | None = None,
    currency: str | None = None,
    description: str = "",
) -> MarketingCost:
    """Record a cost line of an event or (exactly one of the two) of a
    channel. The currency defaults to the event's. Raises ValidationFailed
    for a negative amount, a missing/unknown target, a bad currency."""
    _require(actor, "crm.add_marketingcost")
    errors: dict[str, list] = {}
    event = None
    if (event_id is None) == (channel_id is None):
        errors["event_id"] = [_("Give either a marketing event or a channel.")]
    elif event_id is not None:
        event = MarketingEvent.objects.filter(pk=event_id).first()
        if event is None:
            errors["event_id"] = [_("Unknown marketing event.")]
    else:
        _known(Channel, channel_id, errors, "channel_id", _("Unknown channel."))
    value = _amount(amount, errors, "amount", required=True)
    if currency is None:
        currency = event.currency if event is not None else "IDR"
    currency = _currency(currency, errors)
    if date is None:
        errors["date"] = [_("This field is required.")]
    description = (description or "").strip()
    if len(description) > 200:
        errors["description"] = [_("At most %(n)d characters.") % {"n": 200}]
    if errors:
        raise ValidationFailed(_("The cost cannot be recorded."), fields=errors)
    cost = MarketingCost.objects.create(
        event=event,
        channel_id=channel_id if event is None else None,
        date=date,
        amount=value,
        currency=currency,
        description=description,
        created_by=actor,
    )
    audit.record(actor=actor, subject=cost, action="created")
    return cost


@transaction.atomic
def marketing_cost_delete(*, actor, cost_id: int) -> None:
    """Remove a cost line entered by mistake (audited)."""
    _require(actor, "crm.delete_marketingcost")
    cost = MarketingCost.objects.filter(pk=cost_id).first()
    if cost is None:
        raise NotFound(_("Cost not found."))
    audit.record(
        actor=actor,
        subject=cost,
        action="deleted",
        changes={"amount": [str(cost.amount), None]},
    )
    cost.delete()


@transaction.atomic
def event_participant_add(
    *,
    actor,
    event_id: int,
    client_id: int | None = None,
    contact_id: int | None = None,
    status: str = EventParticipant.Status.REGISTERED,
) -> EventParticipant:
    """Register a client and/or one of its contact persons for an event.

    The client must be visible (NotFound otherwise); a contact given with a
    client must act for it. Records a touch of the client with the event."""
    _require_marketing(actor)
    event = MarketingEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("Marketing event not found."))
    errors: dict[str, list] = {}
    if client_id is None and contact_id is None:
        errors["client_id"] = [_("Give a client or a contact person.")]
    client = _visible_client(actor, client_id) if client_id is not None else None
    if contact_id is not None:
        if client is not None:
            if not ContactRole.objects.filter(
                client=client, contact_id=contact_id
            ).exists():
                errors["contact_id"] = [
                    _("The contact person must act for this client.")
                ]
        else:
            from satu.parties.models import Contact

            _known(Contact, contact_id, errors, "contact_id", _("Unknown contact."))
    if status not in EventParticipant.Status.values:
        errors["status"] = [
            _("Choose one of: %(c)s.")
            % {"c": ", ".join(EventParticipant.Status.values)}
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    participant = EventParticipant.objects.create(
        event=event, client=client, contact_id=contact_id, status=status
    )
    audit.record(
        actor=actor,
        subject=event,
        action="updated",
        changes={"participant": [None, str(client or contact_id)]},
    )
    if client is not None:
        touch_record(
            client_id=client.pk,
            source_type="crm.eventparticipant",
            source_id=participant.pk,
            channel_id=event.channel_id,
            event_id=event.pk,
        )
    return participant


@transaction.atomic
def event_participant_set_status(
    *, actor, participant_id: int, status: str
) -> EventParticipant:
    """Mark a registration attended or cancelled (or back to registered)."""
    _require_marketing(actor)
    participant = EventParticipant.objects.filter(pk=participant_id).first()
    if participant is None:
        raise NotFound(_("Participant not found."))
    if status not in EventParticipant.Status.values:
        raise ValidationFailed(
            fields={
                "status": [
                    _("Choose one of: %(c)s.")
                    % {"c": ", ".join(EventParticipant.Status.values)}
                ]
            }
        )
    old = participant.status
    participant.status = status
    participant.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        subject=participant.event,
        action="updated",
        changes={"participant_status": [old, status]},
    )
    return participant


# ---------------------------------------------------------------- leads


def _clean_lead(data: dict, errors: dict) -> None:
    _text(data, LEAD_TEXT, errors)
    if data.get("email"):
        try:
            data["email"] = normalize_email(data["email"])
        except ValueError as exc:
            errors["email"] = [str(exc)]
    if data.get("phone"):
        try:
            data["phone"] = normalize_phone(data["phone"])
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    _check_attribution(data, errors)
    if "owner_id" in data:
        if data["owner_id"] is None:
            errors["owner_id"] = [_("This field is required.")]
        else:
            _active_user(data["owner_id"], errors, "owner_id")


def _lead_identified(data: dict, errors: dict) -> None:
    if not any(
        data.get(k) for k in ("company_name", "person_name", "email", "phone")
    ) and not any(k in errors for k in ("email", "phone")):
        errors["person_name"] = [
            _("Give at least a name, a company, an email or a phone.")
        ]


@transaction.atomic
def lead_create(
    *,
    actor,
    source: str = Lead.Source.MANUAL,
    company_name: str = "",
    person_name: str = "",
    email: str = "",
    phone: str = "",
    message: str = "",
    channel_id: int | None = None,
    marketing_event_id: int | None = None,
    reason_id: int | None = None,
    owner_id: int | None = None,
    number: str = "",
    form_id: int | None = None,
) -> Lead:
    """Register a lead (web form, API, inbound email, import, by hand).

    A lead needs at least a name, company, email or phone (ValidationFailed,
    422). The phone is stored in E.164, the email normalised. The owner is
    the given one, else the actor. The actor needs `crm.add_lead`; the public
    form and the mail importer act as a service user holding it.
    Publishes LeadCreated on commit."""
    _require(actor, "crm.add_lead")
    if (
        owner_id is not None
        and owner_id != actor.pk
        and not parties_queries.sees_all_clients(actor)
        and not actor.has_perm("crm.view_all_leads")
    ):
        raise ValidationFailed(
            fields={
                "owner_id": [_("Only a head of sales can give a lead to another user.")]
            }
        )
    return _lead_insert(
        actor,
        source=source,
        number=number,
        company_name=company_name,
        person_name=person_name,
        email=email,
        phone=phone,
        message=message,
        channel_id=channel_id,
        marketing_event_id=marketing_event_id,
        reason_id=reason_id,
        owner_id=owner_id if owner_id is not None else actor.pk,
        form_id=form_id,
    )


def _lead_insert(actor, *, source, form_id=None, **fields) -> Lead:
    """Validate and insert a lead; `actor` None for anonymous submissions."""
    errors: dict[str, list] = {}
    if source not in Lead.Source.values:
        errors["source"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Lead.Source.values)}
        ]
    data = {k: (v or "") if k in LEAD_TEXT else v for k, v in fields.items()}
    _clean_lead(data, errors)
    _lead_identified(data, errors)
    if errors:
        raise ValidationFailed(_("The lead cannot be registered."), fields=errors)
    lead = Lead.objects.create(source=source, form_id=form_id, created_by=actor, **data)
    audit.record(actor=actor, subject=lead, action="created")
    publish_on_commit(LeadCreated(lead.pk, source))
    return lead


def _editable_lead(actor, lead_id, perm: str = "crm.change_lead") -> Lead:
    _require(actor, perm)
    try:
        pk = int(lead_id)
    except (TypeError, ValueError):
        raise NotFound(_("Lead not found.")) from None
    lead = locks.leads_for_update(queries.leads_visible_to(actor).filter(pk=pk)).first()
    if lead is None:
        raise NotFound(_("Lead not found."))
    return lead


@transaction.atomic
def lead_update(*, actor, lead_id: int, version: int | None = None, **changes) -> Lead:
    """Change fields of a new lead. Locks it; LeadNotNew (409) once it was
    qualified or disqualified; VersionConflict on a stale `version`."""
    lead = _editable_lead(actor, lead_id)
    _check_version(lead, version)
    if lead.state != Lead.State.NEW:
        raise LeadNotNew()
    unknown = set(changes) - set(LEAD_FIELDS)
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in unknown}
    data = {k: v for k, v in changes.items() if k not in unknown}
    _clean_lead(data, errors)
    if "owner_id" in data and data["owner_id"] not in (lead.owner_id, actor.pk):
        if not parties_queries.sees_all_clients(actor):
            errors["owner_id"] = [
                _("Only a head of sales can give a lead to another manager.")
            ]
    merged = {k: getattr(lead, k) for k in LEAD_TEXT} | data
    _lead_identified(merged, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = [f.removesuffix("_id") for f in LEAD_FIELDS]
    before = audit.snapshot(lead, tracked)
    for key, value in data.items():
        setattr(lead, key, "" if value is None and key in LEAD_TEXT else value)
    lead.version += 1
    lead.save()
    changed = audit.diff(before, audit.snapshot(lead, tracked))
    if changed:
        audit.record(actor=actor, subject=lead, action="updated", changes=changed)
    return lead


@transaction.atomic
def lead_disqualify(
    *, actor, lead_id: int, reason: str, version: int | None = None
) -> Lead:
    """Close a new lead as not worth pursuing; the reason is required.
    Locks the lead; LeadNotNew (409) unless it is new."""
    lead = _editable_lead(actor, lead_id)
    _check_version(lead, version)
    if lead.state != Lead.State.NEW:
        raise LeadNotNew()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            fields={"reason": [_("Say why the lead is disqualified.")]}
        )
    if len(reason) > 2000:
        raise ValidationFailed(
            fields={"reason": [_("At most %(n)d characters.") % {"n": 2000}]}
        )
    lead.state = Lead.State.DISQUALIFIED
    lead.disqualify_reason = reason
    lead.version += 1
    lead.save()
    audit.record(
        actor=actor,
        subject=lead,
        action="disqualified",
        changes={"state": [Lead.State.NEW, lead.state], "reason": [None, reason]},
    )
    return lead


@transaction.atomic
def lead_qualify(
    *,
    actor,
    lead_id: int,
    client_id: int | None = None,
    create_client: bool = True,
    client_name: str = "",
    create_deal: bool = False,
    deal_kind_id: int | None = None,
    deal_title: str = "",
    amount=None,
    currency: str = "IDR",
    create_anyway: bool = False,
    version: int | None = None,
) -> Lead:
    """Turn a new lead into a client (an existing visible one, `client_id`,
    or a new one named after the lead's company or person) and optionally a
    deal carrying the lead's channel and event.

    A new client is checked for duplicates (parties `client_duplicates`):
    PossibleDuplicate (409, `candidates`) unless `create_anyway`. The new
    client's source channel is the lead's channel. Records the lead's touch
    (at the lead's arrival) and the deal's, audits, appends `lead.qualified`
    to the client timeline. Locks the lead. Raises LeadNotNew (409) when the
    lead was already qualified/disqualified, NotFound for an invisible
    `client_id`, ValidationFailed for bad deal fields (nothing is created)."""
    from satu.parties import services as parties_services

    lead = _editable_lead(actor, lead_id)
    _check_version(lead, version)
    if lead.state != Lead.State.NEW:
        raise LeadNotNew()
    if client_id is not None:
        client = _visible_client(actor, client_id)
    elif not create_client:
        raise ValidationFailed(
            fields={"client_id": [_("Choose a client or create a new one.")]}
        )
    else:
        name = (client_name or lead.company_name or lead.person_name).strip()
        if not name:
            name = lead.email or lead.phone
        if not create_anyway:
            candidates = parties_queries.client_duplicates(
                name=name, phone=lead.phone, email=lead.email
            )
            if candidates:
                raise PossibleDuplicate(candidates=candidates)
        client = parties_services.client_create(
            actor=actor,
            name=name,
            kind="company" if lead.company_name else "person",
            owner_id=lead.owner_id if parties_queries.sees_all_clients(actor) else None,
            source_channel_id=lead.channel_id,
            phone=lead.phone,
            email=lead.email,
            notes=lead.message[:20000],
            allow_duplicate=True,
        )
        if lead.person_name and lead.company_name:
            _lead_contact(actor, lead, client)
    deal = None
    if create_deal:
        deal = deal_create(
            actor=actor,
            client_id=client.pk,
            kind_id=deal_kind_id,
            title=(deal_title or "").strip() or str(lead),
            amount=amount,
            currency=currency,
            initial_demand=lead.message[:20000],
            channel_id=lead.channel_id,
            marketing_event_id=lead.marketing_event_id,
            reason_id=lead.reason_id,
        )
    touch_record(
        client_id=client.pk,
        source_type="crm.lead",
        source_id=lead.pk,
        channel_id=lead.channel_id,
        event_id=lead.marketing_event_id,
        reason_id=lead.reason_id,
        at=lead.created_at,
    )
    lead.state = Lead.State.QUALIFIED
    lead.client = client
    lead.deal = deal
    lead.qualified_at = timezone.now()
    lead.version += 1
    lead.save()
    audit.record(
        actor=actor,
        subject=lead,
        action="qualified",
        changes={
            "state": [Lead.State.NEW, Lead.State.QUALIFIED],
            "client": [None, client.name],
            "deal": [None, deal.title if deal else None],
        },
    )
    timeline_record(
        client_id=client.pk,
        kind="lead.qualified",
        actor=actor,
        summary=_("Lead “%(lead)s” qualified") % {"lead": str(lead)},
        subject_type=queries.SUBJECT_LEAD,
        subject_id=lead.pk,
        url=f"/leads/{lead.pk}/",
        data={"lead": str(lead), "source": lead.source},
    )
    publish_on_commit(LeadQualified(lead.pk, client.pk, deal.pk if deal else None))
    return lead


def _lead_contact(actor, lead: Lead, client) -> None:
    """The person of a company lead becomes a contact person of the client
    (only when the contacts module is on and the data is valid)."""
    from satu.parties import services as parties_services

    if not features.is_enabled("contacts") or not actor.has_perm("parties.add_contact"):
        return
    first, _sep, last = lead.person_name.strip().partition(" ")
    parties_services.contact_create(
        actor=actor,
        first_name=first[:100],
        last_name=last[:100],
        phones=[lead.phone] if lead.phone else [],
        emails=[lead.email] if lead.email else [],
        client_roles=[{"client_id": client.pk, "role": ""}],
    )


@transaction.atomic
def lead_form_create(
    *,
    actor,
    key: str,
    name: str,
    channel_id: int | None = None,
    marketing_event_id: int | None = None,
    owner_id: int | None = None,
    is_active: bool = True,
) -> LeadForm:
    """Configure a public lead form reachable at /public/lead-form/<key>/."""
    _require(actor, "crm.add_leadform")
    errors: dict[str, list] = {}
    data = _clean_lead_form(
        {
            "key": key,
            "name": name,
            "channel_id": channel_id,
            "event_id": marketing_event_id,
            "owner_id": owner_id if owner_id is not None else actor.pk,
            "is_active": bool(is_active),
        },
        errors,
        None,
    )
    if errors:
        raise ValidationFailed(fields=errors)
    form = LeadForm.objects.create(**data)
    audit.record(actor=actor, subject=form, action="created")
    return form


@transaction.atomic
def lead_form_update(*, actor, form_id: int, **changes) -> LeadForm:
    """Change a lead form (its key, name, defaults, active flag)."""
    _require(actor, "crm.change_leadform")
    form = LeadForm.objects.select_for_update().filter(pk=form_id).first()
    if form is None:
        raise NotFound(_("Lead form not found."))
    if "marketing_event_id" in changes:
        changes["event_id"] = changes.pop("marketing_event_id")
    allowed = {"key", "name", "channel_id", "event_id", "owner_id", "is_active"}
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in set(changes) - allowed}
    data = _clean_lead_form(
        {k: v for k, v in changes.items() if k in allowed}, errors, form
    )
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = ["key", "name", "channel", "event", "owner", "is_active"]
    before = audit.snapshot(form, tracked)
    for key, value in data.items():
        setattr(form, key, value)
    form.save()
    audit.record(
        actor=actor,
        subject=form,
        action="updated",
        changes=audit.diff(before, audit.snapshot(form, tracked)),
    )
    return form


def _clean_lead_form(data: dict, errors: dict, current) -> dict:
    import re

    if "key" in data:
        data["key"] = (data["key"] or "").strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,63}", data["key"]):
            errors["key"] = [
                _("Use 2–64 lowercase letters, digits, hyphens or underscores.")
            ]
        elif (
            LeadForm.objects.filter(key=data["key"])
            .exclude(pk=current.pk if current else None)
            .exists()
        ):
            errors["key"] = [_("This key is already used.")]
    if "name" in data:
        data["name"] = _name(data["name"], 200, errors)
    _known(Channel, data.get("channel_id"), errors, "channel_id", _("Unknown channel."))
    _known(
        MarketingEvent,
        data.get("event_id"),
        errors,
        "marketing_event_id",
        _("Unknown marketing event."),
    )
    _active_user(data.get("owner_id"), errors, "owner_id")
    return data


@transaction.atomic
def lead_submit_public(
    *, form_key: str, company_name="", person_name="", email="", phone="", message=""
) -> Lead:
    """A lead sent through a public web form: owned by the form's default
    owner, with its channel and event. Raises LeadFormClosed (404) for an
    unknown or inactive form, ValidationFailed as `lead_create`. Spam
    throttling is the view's job (it knows the client address)."""
    features.require(FEATURE)
    form = (
        LeadForm.objects.select_related("owner")
        .filter(key=form_key, is_active=True)
        .first()
    )
    if form is None:
        raise LeadFormClosed()
    if form.owner is None or not form.owner.is_active:
        raise LeadFormClosed()
    return _lead_insert(
        None,
        source=Lead.Source.WEB_FORM,
        form_id=form.pk,
        channel_id=form.channel_id,
        marketing_event_id=form.event_id,
        reason_id=None,
        owner_id=form.owner_id,
        number="",
        company_name=company_name,
        person_name=person_name,
        email=email,
        phone=phone,
        message=message,
    )


# ---------------------------------------------------------------- deal lines

LINE_TEXT = {"description": 300, "unit": 20, "unmet_note": 5000}


def _clean_lines(lines: list[dict], errors: dict) -> list[dict]:
    from satu.catalog.models import Product

    cleaned = []
    product_ids = {x.get("product_id") for x in lines if x.get("product_id")}
    known = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
    reason_ids = {x.get("unmet_reason_id") for x in lines if x.get("unmet_reason_id")}
    known_reasons = set(
        UnmetDemandReason.objects.filter(pk__in=reason_ids).values_list("pk", flat=True)
    )
    for i, raw in enumerate(lines):
        key = f"lines.{i}"
        line = {
            "product_id": raw.get("product_id"),
            "description": raw.get("description") or "",
            "quantity": raw.get("quantity", 1),
            "unit": raw.get("unit") or "",
            "price": raw.get("price"),
            "dropped": bool(raw.get("dropped", False)),
            "unmet_reason_id": raw.get("unmet_reason_id"),
            "unmet_note": raw.get("unmet_note") or "",
        }
        line_errors: dict[str, list] = {}
        _text(line, LINE_TEXT, line_errors)
        if line["product_id"] is not None and line["product_id"] not in known:
            line_errors["product_id"] = [_("Unknown product.")]
        if line["product_id"] is None and not line["description"]:
            line_errors["description"] = [_("Choose a product or describe it.")]
        try:
            quantity = Decimal(str(line["quantity"]))
            if not quantity.is_finite() or quantity <= 0 or quantity >= MAX_AMOUNT:
                raise InvalidOperation
            line["quantity"] = quantity.quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            line_errors["quantity"] = [_("Enter a quantity above zero.")]
        line["price"] = _amount(line["price"], line_errors, "price")
        if (
            line["unmet_reason_id"] is not None
            and line["unmet_reason_id"] not in known_reasons
        ):
            line_errors["unmet_reason_id"] = [_("Unknown unmet demand reason.")]
        for k, v in line_errors.items():
            errors[f"{key}.{k}"] = v
        cleaned.append(line)
    return cleaned


def _write_lines(deal: Deal, lines: list[dict]) -> None:
    deal.lines.all().delete()
    DealLine.objects.bulk_create(
        DealLine(deal=deal, position=i, **line) for i, line in enumerate(lines, 1)
    )


def _lines_summary(deal: Deal) -> list[str]:
    return [
        f"{x.description or x.product_id} × {x.quantity.normalize()}"
        + (" (dropped)" if x.dropped else "")
        for x in deal.lines.all()
    ]


@transaction.atomic
def deal_lines_set(*, actor, deal_id: int, lines: list[dict]) -> Deal:
    """Replace the product lines of a deal (what the client asks for):
    `[{"product_id", "description", "quantity", "unit", "price", "dropped",
    "unmet_reason_id", "unmet_note"}]`; the currency is the deal's. Locks the
    deal; ValidationFailed (`lines.<i>.<field>`) for bad lines. Audited."""
    deal = _editable_deal(actor, deal_id)
    errors: dict[str, list] = {}
    cleaned = _clean_lines(lines, errors)
    if errors:
        raise ValidationFailed(_("Some lines are not valid."), fields=errors)
    before = _lines_summary(deal)
    _write_lines(deal, cleaned)
    after = _lines_summary(deal)
    if before != after:
        deal.version += 1
        deal.save(update_fields=["version", "updated_at"])
        audit.record(
            actor=actor,
            subject=deal,
            action="updated",
            changes={"lines": [before, after]},
        )
    return deal


@transaction.atomic
def deal_line_mark_unmet(
    *,
    actor,
    deal_id: int,
    line_id: int,
    unmet_reason_id: int | None,
    note: str = "",
    dropped: bool = True,
) -> DealLine:
    """Say why a line's demand was not met (when the deal is lost or the
    line dropped). Locks the deal; the reason is required."""
    deal = _editable_deal(actor, deal_id)
    line = DealLine.objects.filter(pk=line_id, deal=deal).first()
    if line is None:
        raise NotFound(_("Deal line not found."))
    errors: dict[str, list] = {}
    reason = None
    if unmet_reason_id is None:
        errors["unmet_reason_id"] = [_("Choose why the demand was not met.")]
    else:
        reason = UnmetDemandReason.objects.filter(
            pk=unmet_reason_id, is_active=True
        ).first()
        if reason is None:
            errors["unmet_reason_id"] = [_("Unknown unmet demand reason.")]
    note = (note or "").strip()
    if len(note) > 5000:
        errors["note"] = [_("At most %(n)d characters.") % {"n": 5000}]
    if errors:
        raise ValidationFailed(fields=errors)
    line.unmet_reason = reason
    line.unmet_note = note
    line.dropped = dropped
    line.save()
    audit.record(
        actor=actor,
        subject=deal,
        action="updated",
        changes={"unmet_demand": [None, f"{line}: {reason.name}"]},
    )
    return line


@transaction.atomic
def unmet_demand_reason_create(*, actor, name: str) -> UnmetDemandReason:
    return _simple_create(actor, UnmetDemandReason, "crm.add_unmetdemandreason", name)


# ---------------------------------------------------------------- lead import

LEAD_IMPORT_COLUMNS = {
    "company_name": ("company", "company name", "organisation", "organization"),
    "person_name": ("name", "person", "person name", "contact", "full name"),
    "email": ("email", "e mail", "mail"),
    "phone": ("phone", "telephone", "mobile", "phone number"),
    "message": ("message", "notes", "comment", "request"),
    "channel": ("channel", "source channel"),
    "number": ("number", "external number", "id"),
}
LEAD_IMPORT_MAX_ROWS = 5000
# At least one of these columns, or no row could identify a lead.
LEAD_IMPORT_IDENTITY = frozenset({"company_name", "person_name", "email", "phone"})


class _ImportFailed(Exception):
    pass


@transaction.atomic
def lead_import(*, actor, data: bytes, filename: str = "") -> dict:
    """Import leads from a CSV or XLSX file (parties' reader), all or
    nothing: headers map by name (company, name, email, phone, message,
    channel — a channel by its name —, number); every row is validated like
    `lead_create` (source "import", owner the actor). Returns {"created": n,
    "errors": []}; with any row error nothing is created and
    "errors" lists {"row", "fields"} per bad row ("row" is the spreadsheet
    row, the header being 1). ImportFileInvalid (`import.invalid_file`) for
    an unreadable or empty file, one without a company/name/email/phone
    column, or one with a header but no rows. Used by the web screen and the
    API alike."""
    from satu.parties.imports import ImportFileInvalid, norm, read_table

    _require(actor, "crm.add_lead")
    table = read_table(data, filename)
    columns: dict[int, str] = {}
    for i, header in enumerate(table.headers):
        for key, aliases in LEAD_IMPORT_COLUMNS.items():
            if norm(header) in aliases and key not in columns.values():
                columns[i] = key
    if not columns:
        message = _("No known column; use company, name, email, phone, message.")
        raise ImportFileInvalid(message, fields={"file": [message]})
    if not LEAD_IMPORT_IDENTITY.intersection(columns.values()):
        message = _(
            "The file needs a company, name, email or phone column: "
            "a lead without any of them cannot be registered."
        )
        raise ImportFileInvalid(message, fields={"file": [message]})
    if not table.rows:
        message = _("The file has a header row but no leads.")
        raise ImportFileInvalid(message, fields={"file": [message]})
    if len(table.rows) > LEAD_IMPORT_MAX_ROWS:
        message = _("At most %(n)d rows per file.") % {"n": LEAD_IMPORT_MAX_ROWS}
        raise ImportFileInvalid(message, fields={"file": [message]})
    channels: dict[str, int] = {}
    for channel in Channel.objects.filter(is_active=True):
        channels.setdefault(norm(channel.name), channel.pk)
    errors: list[dict] = []
    created = 0
    try:
        with transaction.atomic():
            for number, cells in table.rows:
                values = {
                    key: (cells[i] if i < len(cells) else "").strip()
                    for i, key in columns.items()
                }
                channel_name = values.pop("channel", "")
                channel_id = channels.get(norm(channel_name)) if channel_name else None
                if channel_name and channel_id is None:
                    errors.append(
                        {"row": number, "fields": {"channel": [_("Unknown channel.")]}}
                    )
                    continue
                try:
                    with transaction.atomic():
                        _lead_insert(
                            actor,
                            source=Lead.Source.IMPORT,
                            owner_id=actor.pk,
                            channel_id=channel_id,
                            marketing_event_id=None,
                            reason_id=None,
                            **{k: values.get(k, "") for k in LEAD_TEXT},
                        )
                    created += 1
                except ValidationFailed as exc:
                    errors.append({"row": number, "fields": exc.fields})
            if errors:
                raise _ImportFailed
    except _ImportFailed:
        return {"created": 0, "errors": errors}
    return {"created": created, "errors": []}


# ============================================== configuration (settings screens)
# Updates behind /settings/crm/...: deal kinds, stages and their rules, and the
# reference lists. Creating lives above (deal_kind_create, stage_create...).


@transaction.atomic
def deal_kind_update(
    *,
    actor,
    kind_id: int,
    name: str | None = None,
    control_mode: str | None = None,
    is_active: bool | None = None,
) -> DealKind:
    """Rename a deal kind, change its control mode or (de)activate it. A kind
    with stages cannot become status-only (its deals sit on stages). Locks the
    kind. Raises NotFound, ValidationFailed."""
    _require(actor, "crm.change_dealkind")
    kind = DealKind.objects.select_for_update().filter(pk=kind_id).first()
    if kind is None:
        raise NotFound(_("Deal kind not found."))
    errors: dict[str, list] = {}
    before = audit.snapshot(kind, ["name", "control_mode", "is_active"])
    if name is not None:
        name = _name(name, 100, errors)
        if name and DealKind.objects.filter(name=name).exclude(pk=kind.pk).exists():
            errors["name"] = [_("A deal kind with this name exists.")]
        kind.name = name
    if control_mode is not None:
        if control_mode not in DealKind.ControlMode.values:
            errors["control_mode"] = [
                _("Choose one of: %(c)s.")
                % {"c": ", ".join(DealKind.ControlMode.values)}
            ]
        elif control_mode == DealKind.ControlMode.STATUS_ONLY and kind.stages.exists():
            errors["control_mode"] = [
                _("This kind has stages; a status-only kind has none.")
            ]
        kind.control_mode = control_mode
    if is_active is not None:
        kind.is_active = bool(is_active)
    if errors:
        raise ValidationFailed(fields=errors)
    kind.save()
    changed = audit.diff(
        before, audit.snapshot(kind, ["name", "control_mode", "is_active"])
    )
    if changed:
        audit.record(actor=actor, subject=kind, action="updated", changes=changed)
    return kind


@transaction.atomic
def stage_update(
    *, actor, stage_id: int, name: str | None = None, probability: int | None = None
) -> Stage:
    """Rename a stage or change its default probability (0–100). Raises
    NotFound, ValidationFailed."""
    _require(actor, "crm.change_dealkind")
    stage = (
        Stage.objects.select_for_update(of=("self",))
        .select_related("kind")
        .filter(pk=stage_id)
        .first()
    )
    if stage is None:
        raise NotFound(_("Stage not found."))
    errors: dict[str, list] = {}
    before = {"name": stage.name, "probability": stage.probability}
    if name is not None:
        stage.name = _name(name, 100, errors)
    if probability is not None:
        if not isinstance(probability, int) or not 0 <= probability <= 100:
            errors["probability"] = [_("Enter a percentage from 0 to 100.")]
        else:
            stage.probability = probability
    if errors:
        raise ValidationFailed(fields=errors)
    stage.save(update_fields=["name", "probability"])
    after = {"name": stage.name, "probability": stage.probability}
    changed = audit.diff(before, after)
    if changed:
        audit.record(
            actor=actor,
            subject=stage.kind,
            action="updated",
            changes={f"stage {stage.pk} {k}": v for k, v in changed.items()},
        )
    return stage


@transaction.atomic
def stage_reorder(*, actor, kind_id: int, stage_ids: list[int]) -> list[Stage]:
    """Put the kind's stages in the order of `stage_ids` (all of them, each
    once). Deals keep their stage; "forward" follows the new order. Locks the
    kind. Raises NotFound, ValidationFailed."""
    _require(actor, "crm.change_dealkind")
    kind = DealKind.objects.select_for_update().filter(pk=kind_id).first()
    if kind is None:
        raise NotFound(_("Deal kind not found."))
    stages = {s.pk: s for s in Stage.objects.filter(kind=kind)}
    ids = [int(i) for i in stage_ids]
    if sorted(ids) != sorted(stages) or len(set(ids)) != len(ids):
        raise ValidationFailed(
            fields={"stage_ids": [_("List every stage of this kind exactly once.")]}
        )
    before = [s.name for s in sorted(stages.values(), key=lambda s: s.position)]
    # Two passes so the unique (kind, position) holds after every statement.
    offset = len(ids) + max((s.position for s in stages.values()), default=0)
    for pk, stage in stages.items():
        Stage.objects.filter(pk=pk).update(position=stage.position + offset)
    for position, pk in enumerate(ids, start=1):
        Stage.objects.filter(pk=pk).update(position=position)
        stages[pk].position = position
    after = [stages[pk].name for pk in ids]
    if before != after:
        audit.record(
            actor=actor,
            subject=kind,
            action="updated",
            changes={"stages": [before, after]},
        )
    return [stages[pk] for pk in ids]


@transaction.atomic
def stage_rule_delete(*, actor, rule_id: int) -> None:
    """Remove a rule from a stage. Raises NotFound."""
    _require(actor, "crm.change_dealkind")
    rule = StageRule.objects.select_related("stage__kind").filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Stage rule not found."))
    audit.record(
        actor=actor,
        subject=rule.stage.kind,
        action="updated",
        changes={"rule": [f"{rule.stage.name}: {rule.rule_type}", None]},
    )
    rule.delete()


def _simple_update(actor, model, perm, pk, *, name=None, is_active=None, **extra):
    _require(actor, perm)
    obj = model.objects.select_for_update().filter(pk=pk).first()
    if obj is None:
        raise NotFound(_("Not found."))
    fields = ["name", "is_active", *extra]
    before = audit.snapshot(obj, fields)
    errors: dict[str, list] = {}
    if name is not None:
        limit = model._meta.get_field("name").max_length
        obj.name = _name(name, limit, errors)
        if obj.name and model.objects.filter(name=obj.name).exclude(pk=pk).exists():
            errors["name"] = [_("This name is already used.")]
    if is_active is not None:
        obj.is_active = bool(is_active)
    for key, value in extra.items():
        if value is not None:
            setattr(obj, key, str(value).strip())
    if errors:
        raise ValidationFailed(fields=errors)
    obj.save()
    changed = audit.diff(before, audit.snapshot(obj, fields))
    if changed:
        audit.record(actor=actor, subject=obj, action="updated", changes=changed)
    return obj


@transaction.atomic
def loss_reason_update(*, actor, reason_id: int, name=None, is_active=None):
    """Rename or (de)activate a loss reason; inactive ones leave the pickers."""
    return _simple_update(
        actor,
        LossReason,
        "crm.change_lossreason",
        reason_id,
        name=name,
        is_active=is_active,
    )


@transaction.atomic
def unmet_demand_reason_update(*, actor, reason_id: int, name=None, is_active=None):
    """Rename or (de)activate a reason for unmet demand."""
    return _simple_update(
        actor,
        UnmetDemandReason,
        "crm.change_unmetdemandreason",
        reason_id,
        name=name,
        is_active=is_active,
    )


@transaction.atomic
def contact_reason_update(*, actor, reason_id: int, name=None, is_active=None):
    """Rename or (de)activate a reason for contact."""
    return _simple_update(
        actor,
        ContactReason,
        "crm.change_contactreason",
        reason_id,
        name=name,
        is_active=is_active,
    )


@transaction.atomic
def competitor_update(
    *, actor, competitor_id: int, name=None, is_active=None, website=None, notes=None
):
    """Rename, (de)activate or describe a competitor."""
    if website is not None and len(website) > 200:
        raise ValidationFailed(
            fields={"website": [_("At most %(n)d characters.") % {"n": 200}]}
        )
    return _simple_update(
        actor,
        Competitor,
        "crm.change_competitor",
        competitor_id,
        name=name,
        is_active=is_active,
        website=website,
        notes=notes,
    )


@transaction.atomic
def claim_category_update(*, actor, category_id: int, name=None, is_active=None):
    """Rename or (de)activate a claim category."""
    return _simple_update(
        actor,
        ClaimCategory,
        "crm.change_claimcategory",
        category_id,
        name=name,
        is_active=is_active,
    )


def _clean_unmet_lines(deal: Deal, items: list[dict], errors: dict) -> list[tuple]:
    """[(line, unmet_reason_id, note)] for `deal_lose`; errors per item."""
    if not items:
        return []
    lines = {x.pk: x for x in DealLine.objects.filter(deal=deal)}
    reasons = set(
        UnmetDemandReason.objects.filter(is_active=True).values_list("pk", flat=True)
    )
    cleaned = []
    for i, item in enumerate(items):
        line = lines.get(item.get("line_id"))
        note = (item.get("note") or "").strip()
        if line is None:
            errors[f"unmet_lines.{i}.line_id"] = [_("Not a line of this deal.")]
        if item.get("unmet_reason_id") not in reasons:
            errors[f"unmet_lines.{i}.unmet_reason_id"] = [
                _("Unknown unmet demand reason.")
            ]
        if len(note) > 5000:
            errors[f"unmet_lines.{i}.note"] = [
                _("At most %(n)d characters.") % {"n": 5000}
            ]
        cleaned.append((line, item.get("unmet_reason_id"), note))
    return cleaned
