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
    _known(Channel, data.get("channel_id"), errors, "channel_id", _("Unknown channel."))
    _known(
        ContactReason,
        data.get("reason_id"),
        errors,
        "reason_id",
        _("Unknown reason for contact."),
    )


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
    for key in data:
        value = merged[key]
        setattr(
            interaction, key, "" if value is None and key in INTERACTION_TEXT else value
        )
    interaction.version += 1
    interaction.save()
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
    _known(Channel, data.get("channel_id"), errors, "channel_id", _("Unknown channel."))


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
    }
    _clean_deal(data, client.pk, errors)
    _check_owner(actor, data["owner_id"], None, errors)
    _check_competitors(competitor_ids, errors)
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
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = [f.removesuffix("_id") for f in DEAL_FIELDS]
    before = audit.snapshot(deal, tracked)
    before["competitors"] = sorted(deal.competitors.values_list("name", flat=True))
    for key, value in data.items():
        setattr(deal, key, "" if value is None and key in DEAL_TEXT else value)
    deal.version += 1
    deal.save()
    if competitor_ids is not None:
        deal.competitors.set(competitor_ids)
    after = audit.snapshot(deal, tracked)
    after["competitors"] = sorted(deal.competitors.values_list("name", flat=True))
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
) -> Deal:
    """Close a deal as lost; the loss reason is required, the stage where
    it was lost is recorded, and `competitor_id` says to whom."""
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
    if errors:
        raise ValidationFailed(_("The deal cannot be closed as lost."), fields=errors)
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
    for key, value in data.items():
        setattr(claim, key, "" if value is None and key in CLAIM_TEXT else value)
    claim.version += 1
    claim.save()
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
