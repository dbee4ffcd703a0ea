"""Demo CRM data: two deal kinds with stages and rules, deals with a won/lost
history, interactions, tasks, claims and segments, for the clients the demo
loader created. Called once by satu.demo.loader inside its transaction.

A representative part goes through the services (rules, approvals,
overrides, numbering); the volume (most deals, their stage history and the
interactions) is written with bulk_create exactly as the services store it
(deal, stage changes, competitors, interactions with contacts, marketing
touches, audit entries, timeline entries with the same kinds, summaries and
data), spread over the past 18 months so the history looks real."""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.core.models import AuditEntry
from satu.crm import queries, services
from satu.crm.models import (
    Competitor,
    ContactReason,
    Deal,
    DealKind,
    DealStageChange,
    Interaction,
    LossReason,
    Stage,
    StageRule,
    Touch,
)
from satu.parties.models import Client, ContactRole, TimelineEntry

LOSS_REASONS = ["Price too high", "Chose a competitor", "No budget", "Bad timing"]
COMPETITORS = ["PT Sinar Teknik", "CV Mitra Usaha", "PT Global Supplies"]
CONTACT_REASONS = ["Price request", "Complaint", "New order", "Consultation"]
DEMANDS = [
    "Wants to replace two old machines this year.",
    "Asks for a yearly supply contract.",
    "Interested in a bulk price for the next season.",
    "Needs installation and training for the new outlet.",
    "",
]
TITLES = ["Supply", "Equipment", "Service contract", "Upgrade", "Renewal", "Pilot"]


SERVICE_DEALS = 40  # through the services; the rest in bulk


def load(
    *,
    rng: random.Random,
    deals: int = 800,
    interactions: int | None = None,
    progress=None,
) -> dict:
    """Create the CRM demo; returns counts. `deals` scales everything
    (`interactions` defaults to 6.25 per deal: 5,000 for 800)."""
    progress = progress or (lambda message: None)
    head = Group.objects.get(name="head_of_sales").user_set.order_by("pk").first()
    admin_actor = head
    for name in LOSS_REASONS:
        services.loss_reason_create(actor=admin_actor, name=name)
    for name in COMPETITORS:
        services.competitor_create(actor=admin_actor, name=name)
    for name in CONTACT_REASONS:
        services.contact_reason_create(actor=admin_actor, name=name)
    equipment = services.deal_kind_create(
        actor=admin_actor,
        name="Equipment sale",
        control_mode=DealKind.ControlMode.MANUAL_STAGES,
        stages=[
            {
                "name": "Qualification",
                "probability": 10,
                "rules": [
                    {"rule_type": StageRule.Type.REQUIRED_FIELD, "field_name": "amount"}
                ],
            },
            {
                "name": "Proposal",
                "probability": 30,
                "rules": [
                    {
                        "rule_type": StageRule.Type.INTERACTION,
                        "interaction_kind": "meeting",
                    }
                ],
            },
            {
                "name": "Negotiation",
                "probability": 60,
                "rules": [
                    {"rule_type": StageRule.Type.APPROVAL, "role_code": "head_of_sales"}
                ],
            },
            {"name": "Contract", "probability": 90, "rules": []},
        ],
    )
    service = services.deal_kind_create(
        actor=admin_actor,
        name="Service contract",
        control_mode=DealKind.ControlMode.MANUAL_STAGES,
        stages=[
            {"name": "Request", "probability": 20},
            {
                "name": "Offer",
                "probability": 50,
                "rules": [
                    {
                        "rule_type": StageRule.Type.REQUIRED_FIELD,
                        "field_name": "expected_close",
                    }
                ],
            },
            {"name": "Signed", "probability": 90},
        ],
    )
    kinds = [
        (equipment, list(Stage.objects.filter(kind=equipment).order_by("position"))),
        (service, list(Stage.objects.filter(kind=service).order_by("position"))),
    ]
    approvals = {
        r.stage_id: r
        for r in StageRule.objects.filter(rule_type=StageRule.Type.APPROVAL)
    }
    loss_ids = list(LossReason.objects.order_by("pk").values_list("pk", flat=True))
    competitor_ids = list(
        Competitor.objects.order_by("pk").values_list("pk", flat=True)
    )
    reason_ids = list(ContactReason.objects.order_by("pk").values_list("pk", flat=True))
    clients = list(
        Client.objects.filter(owner__isnull=False, is_archived=False)
        .select_related("owner")
        .order_by("pk")
    )
    if not clients:
        return {"deals": 0, "interactions": 0}
    contacts: dict[int, list[int]] = {}
    for client_id, contact_id in ContactRole.objects.order_by("pk").values_list(
        "client_id", "contact_id"
    ):
        contacts.setdefault(client_id, []).append(contact_id)
    counts = {"deals": 0, "interactions": 0}
    today = timezone.localdate()

    def interact(owner, client, kind, **kw):
        extra = {}
        if kind == "call":
            extra["direction"] = rng.choice(["incoming", "outgoing"])
            extra["duration_seconds"] = rng.randint(30, 1200)
        people = contacts.get(client.pk, [])
        if "from_type" not in kw:
            extra["client_id"] = client.pk
        services.interaction_create(
            actor=owner,
            kind=kind,
            title=kw.pop(
                "title", rng.choice(["Follow-up", "Prices", "Visit", "Offer"])
            ),
            contact_ids=people[:1],
            reason_id=rng.choice(reason_ids),
            **extra,
            **kw,
        )
        counts["interactions"] += 1

    for index in range(min(deals, SERVICE_DEALS)):
        client = rng.choice(clients)
        owner = client.owner
        kind, stages = kinds[index % 2]
        deal = services.deal_create(
            actor=owner,
            client_id=client.pk,
            kind_id=kind.pk,
            title=f"{rng.choice(TITLES)} for {client.name}"[:200],
            amount=Decimal(rng.randrange(5, 500) * 1_000_000),
            expected_close=today + timedelta(days=rng.randint(10, 120)),
            initial_demand=rng.choice(DEMANDS),
            probability=rng.choice([None, 20, 50, 80]),
            competitor_ids=rng.sample(competitor_ids, rng.randint(0, 2)),
        )
        counts["deals"] += 1
        # How far the deal gets: earlier stages are left by more deals.
        target = min(len(stages) - 1, int(rng.random() ** 1.3 * len(stages)))
        for stage in stages[: target + 1]:
            if stage.pk != deal.stage_id:
                services.deal_move(actor=owner, deal_id=deal.pk, stage_id=stage.pk)
            deal.stage_id = stage.pk
            kind_needed = (
                "meeting"
                if stage.name == "Proposal"
                else rng.choice(["call", "email", "sms"])
            )
            interact(owner, client, kind_needed, from_type="crm.deal", from_id=deal.pk)
            if stage.pk in approvals and stage != stages[target]:
                services.deal_approve(
                    actor=head, deal_id=deal.pk, rule_id=approvals[stage.pk].pk
                )
        outcome = rng.random()
        if target == len(stages) - 1 and outcome < 0.7:
            services.deal_win(actor=owner, deal_id=deal.pk)
        elif outcome < 0.45:
            services.deal_lose(
                actor=owner,
                deal_id=deal.pk,
                loss_reason_id=rng.choice(loss_ids),
                competitor_id=rng.choice([None, *competitor_ids]),
            )
    progress(f"{counts['deals']} deals through the services")
    bulk = _Bulk(rng=rng, head=head, clients=clients, contacts=contacts)
    bulk.deals(
        max(0, deals - counts["deals"]),
        kinds=kinds,
        loss_ids=loss_ids,
        competitor_ids=competitor_ids,
        reason_ids=reason_ids,
    )
    counts["deals"] += bulk.deal_count
    counts["interactions"] += bulk.interaction_count
    progress(f"{counts['deals']} deals")
    # Interactions outside deals, a few planned ones among them.
    for _n in range(min(40, deals // 20)):
        client = rng.choice(clients)
        interact(
            client.owner,
            client,
            "planned",
            title="Call back",
            planned_at=timezone.now() + timedelta(days=rng.randint(1, 20)),
        )
    wanted = interactions if interactions is not None else deals * 25 // 4
    bulk.interactions(max(0, wanted - counts["interactions"]), reason_ids=reason_ids)
    counts["interactions"] = Interaction.objects.count()
    progress(f"{counts['interactions']} interactions")
    counts.update(
        _tasks_and_claims(
            rng=rng,
            head=head,
            clients=clients,
            tasks=max(5, deals // 10),
            claims=max(3, deals // 20),
        )
    )
    counts.update(_segments(head=head))
    counts["won"] = Deal.objects.filter(status=Deal.Status.WON).count()
    counts["lost"] = Deal.objects.filter(status=Deal.Status.LOST).count()
    return counts


# ------------------------------------------------------------------ bulk volume


class _Bulk:
    """Deals with their history and interactions written in bulk, row for row
    what `deal_create`/`deal_move`/`deal_win`/`deal_lose`/`interaction_create`
    store (see the module docstring)."""

    def __init__(self, *, rng, head, clients, contacts):
        self.rng = rng
        self.head = head
        self.clients = clients
        self.contacts = contacts
        self.now = timezone.now()
        self.deal_type = ContentType.objects.get_for_model(Deal)
        self.interaction_type = ContentType.objects.get_for_model(Interaction)
        self.deal_count = 0
        self.interaction_count = 0

    # one interaction row and what interaction_create writes beside it
    def _interaction(self, owner, client, kind, at, *, subject=("", None), reason_id):
        extra = {}
        if kind == Interaction.Kind.CALL:
            extra = {
                "direction": self.rng.choice(["incoming", "outgoing"]),
                "duration_seconds": self.rng.randint(30, 1200),
            }
        return Interaction(
            kind=kind,
            state=Interaction.State.DONE,
            client=client,
            subject_type=subject[0],
            subject_id=subject[1],
            title=self.rng.choice(["Follow-up", "Prices", "Visit", "Offer"]),
            done_at=at,
            created_by=owner,
            reason_id=reason_id,
            **extra,
        )

    def _save_interactions(self, rows: list[Interaction]) -> None:
        Interaction.objects.bulk_create(rows, batch_size=500)
        through = Interaction.contacts.through
        through.objects.bulk_create(
            [
                through(interaction_id=i.pk, contact_id=self.contacts[i.client_id][0])
                for i in rows
                if self.contacts.get(i.client_id)
            ],
            batch_size=1000,
        )
        Touch.objects.bulk_create(
            [
                Touch(
                    client_id=i.client_id,
                    reason_id=i.reason_id,
                    source_type=queries.SUBJECT_INTERACTION,
                    source_id=i.pk,
                    at=i.done_at,
                )
                for i in rows
                if i.reason_id
            ],
            batch_size=1000,
        )
        self._audit(
            [
                (i.created_by, self.interaction_type, i, "created", {}, i.done_at)
                for i in rows
            ]
        )
        TimelineEntry.objects.bulk_create(
            [
                TimelineEntry(
                    client_id=i.client_id,
                    kind="interaction.created",
                    actor=i.created_by,
                    summary=f"{i.get_kind_display()}: {i.title}"[:500],
                    subject_type=queries.SUBJECT_INTERACTION,
                    subject_id=i.pk,
                    url=f"/interactions/{i.pk}/",
                    at=i.done_at,
                    data={"kind": i.kind, "title": i.title, "state": i.state},
                )
                for i in rows
            ],
            batch_size=1000,
        )
        self.interaction_count += len(rows)

    def _audit(self, items) -> None:
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=actor,
                    action=action,
                    content_type=ctype,
                    object_id=obj.pk,
                    object_repr=str(obj)[:255],
                    changes=changes,
                    at=at,
                )
                for actor, ctype, obj, action, changes, at in items
            ],
            batch_size=1000,
        )

    def deals(self, count, *, kinds, loss_ids, competitor_ids, reason_ids) -> None:
        if count <= 0:
            return
        rng = self.rng
        losses = dict(LossReason.objects.values_list("pk", "name"))
        competitors = {c.pk: c for c in Competitor.objects.all()}
        plans = []
        for index in range(count):
            client = rng.choice(self.clients)
            kind, stages = kinds[index % 2]
            reached = min(len(stages) - 1, int(rng.random() ** 1.3 * len(stages)))
            at = self.now - timedelta(
                days=rng.randint(20, 540), hours=rng.randint(0, 9)
            )
            steps = [at]
            for _stage in stages[1 : reached + 1]:
                steps.append(steps[-1] + timedelta(days=rng.randint(2, 20)))
            outcome = rng.random()
            if reached == len(stages) - 1 and outcome < 0.7:
                status = Deal.Status.WON
            elif outcome < 0.45 or (
                steps[-1] < self.now - timedelta(days=200) and outcome < 0.75
            ):
                status = Deal.Status.LOST
            else:
                status = Deal.Status.IN_WORK
            closed = steps[-1] + timedelta(days=rng.randint(1, 15))
            if status != Deal.Status.IN_WORK and closed > self.now:
                closed = self.now
            loss_id = rng.choice(loss_ids) if status == Deal.Status.LOST else None
            won_to = (
                rng.choice([None, *competitor_ids])
                if status == Deal.Status.LOST
                else None
            )
            deal = Deal(
                client=client,
                kind=kind,
                stage=stages[reached],
                stage_entered_at=steps[-1],
                title=f"{rng.choice(TITLES)} for {client.name}"[:200],
                owner=client.owner,
                created_by=client.owner,
                amount=Decimal(rng.randrange(5, 500) * 1_000_000),
                expected_close=(steps[0] + timedelta(days=rng.randint(10, 120))).date(),
                initial_demand=rng.choice(DEMANDS),
                probability=rng.choice([None, 20, 50, 80]),
                status=status,
                closed_at=closed if status != Deal.Status.IN_WORK else None,
                loss_reason_id=loss_id,
                lost_at_stage=stages[reached] if status == Deal.Status.LOST else None,
                won_to_id=won_to,
                version=1 + reached + (status != Deal.Status.IN_WORK),
            )
            picked = rng.sample(competitor_ids, rng.randint(0, 2))
            if won_to and won_to not in picked:
                picked.append(won_to)
            plans.append((deal, stages[: reached + 1], steps, picked))
        Deal.objects.bulk_create([p[0] for p in plans], batch_size=500)

        through = Deal.competitors.through
        through.objects.bulk_create(
            [
                through(deal_id=deal.pk, competitor_id=c)
                for deal, _s, _t, picked in plans
                for c in picked
            ],
            batch_size=1000,
        )
        changes, timeline, audits, talks = [], [], [], []
        for deal, path, steps, _picked in plans:
            owner = deal.owner
            data = {"title": deal.title, "kind": deal.kind.name}

            def entry(kind, summary, at, extra=None, deal=deal, data=data, owner=owner):
                timeline.append(
                    TimelineEntry(
                        client_id=deal.client_id,
                        kind=kind,
                        actor=owner,
                        summary=str(summary)[:500],
                        subject_type=queries.SUBJECT_DEAL,
                        subject_id=deal.pk,
                        url=f"/deals/{deal.pk}/",
                        at=at,
                        data=data | (extra or {}),
                    )
                )

            entry(
                "deal.created", _("Deal “%(title)s” opened (%(kind)s)") % data, steps[0]
            )
            audits.append((owner, self.deal_type, deal, "created", {}, steps[0]))
            previous = None
            for stage, at in zip(path, steps, strict=True):
                changes.append(
                    DealStageChange(
                        deal=deal,
                        from_stage=previous,
                        to_stage=stage,
                        at=at,
                        actor=owner,
                    )
                )
                if previous is not None:
                    names = {"from": previous.name, "to": stage.name}
                    entry(
                        "deal.stage_changed",
                        _("Deal “%(title)s” moved from %(from)s to %(to)s")
                        % (data | names),
                        at,
                        names,
                    )
                    audits.append(
                        (
                            owner,
                            self.deal_type,
                            deal,
                            "stage_changed",
                            {"stage": [previous.name, stage.name]},
                            at,
                        )
                    )
                kind = (
                    Interaction.Kind.MEETING
                    if stage.name == "Proposal"
                    else self.rng.choice(["call", "email", "sms"])
                )
                talks.append(
                    self._interaction(
                        owner,
                        deal.client,
                        kind,
                        at + timedelta(hours=2),
                        subject=(queries.SUBJECT_DEAL, deal.pk),
                        reason_id=self.rng.choice(reason_ids),
                    )
                )
                previous = stage
            if deal.status == Deal.Status.WON:
                entry("deal.won", _("Deal “%(title)s” won") % data, deal.closed_at)
                audits.append(
                    (
                        owner,
                        self.deal_type,
                        deal,
                        "won",
                        {"status": [Deal.Status.IN_WORK, Deal.Status.WON]},
                        deal.closed_at,
                    )
                )
            elif deal.status == Deal.Status.LOST:
                reason = losses[deal.loss_reason_id]
                entry(
                    "deal.lost",
                    _("Deal “%(title)s” lost: %(reason)s")
                    % (data | {"reason": reason}),
                    deal.closed_at,
                    {"reason": reason},
                )
                rival = competitors.get(deal.won_to_id)
                audits.append(
                    (
                        owner,
                        self.deal_type,
                        deal,
                        "lost",
                        {
                            "status": [Deal.Status.IN_WORK, Deal.Status.LOST],
                            "loss_reason": [None, reason],
                            "won_to": [None, rival.name if rival else None],
                        },
                        deal.closed_at,
                    )
                )
        DealStageChange.objects.bulk_create(changes, batch_size=1000)
        TimelineEntry.objects.bulk_create(timeline, batch_size=1000)
        self._audit(audits)
        self._save_interactions(talks)
        self.deal_count += len(plans)

    def interactions(self, count, *, reason_ids) -> None:
        rows = []
        for _n in range(count):
            client = self.rng.choice(self.clients)
            at = self.now - timedelta(
                days=self.rng.randint(0, 540), minutes=self.rng.randint(0, 600)
            )
            kind = self.rng.choice(["call", "call", "email", "sms", "meeting"])
            rows.append(
                self._interaction(
                    client.owner,
                    client,
                    kind,
                    at,
                    reason_id=self.rng.choice([None, *reason_ids]),
                )
            )
        self._save_interactions(rows)


CLAIM_CATEGORIES = ["Delivery delay", "Damaged goods", "Wrong item", "Service quality"]


def _tasks_and_claims(*, rng, head, clients, tasks: int, claims: int) -> dict:
    """Tasks and claims through the services (numbering, reminders, states)."""
    today = timezone.localdate()
    made = {"tasks": 0, "claims": 0}
    for n in range(tasks):
        client = rng.choice(clients)
        task = services.task_create(
            actor=client.owner,
            title=rng.choice(["Call back", "Send the offer", "Check payment", "Visit"]),
            due_at=timezone.now() + timedelta(days=rng.randint(-10, 20), hours=n % 9),
            client_id=client.pk,
        )
        made["tasks"] += 1
        if rng.random() < 0.3:
            services.task_complete(actor=client.owner, task_id=task.pk)
    categories = [
        services.claim_category_create(actor=head, name=name).pk
        for name in CLAIM_CATEGORIES
    ]
    for _n in range(claims):
        client = rng.choice(clients)
        claim = services.claim_create(
            actor=head,
            client_id=client.pk,
            category_id=rng.choice(categories),
            description=rng.choice(
                [
                    "Two boxes arrived broken.",
                    "The delivery came a week late.",
                    "The wrong model was delivered.",
                    "The technician did not come.",
                ]
            ),
            deadline=today + timedelta(days=rng.randint(1, 20)),
            responsible_id=client.owner.pk,
        )
        made["claims"] += 1
        steps = rng.randint(0, 3)
        if steps >= 1:
            services.claim_transition(
                actor=head, claim_id=claim.pk, state="investigating"
            )
        if steps >= 2:
            services.claim_transition(
                actor=head,
                claim_id=claim.pk,
                state="decision",
                decision=rng.choice(["refund", "replacement", "repair", "rejected"]),
            )
        if steps >= 3:
            services.claim_transition(
                actor=head, claim_id=claim.pk, state="closed", outcome="Settled."
            )
    return made


def _segments(*, head) -> dict:
    """A few rule segments and one manual segment, computed."""
    from satu.parties import services as parties_services

    def rule(field, operator, value=None):
        return {"field": field, "operator": operator, "value": value}

    rules = {
        "Active clients": [[rule("status", "eq", "client")]],
        "Open deals": [[rule("crm.has_open_deal", "is_true")]],
        "Silent for 90 days": [],
        "Won this quarter": [[rule("crm.won_deal_days", "last_days", 90)]],
        # two alternatives (OR groups)
        "Hot prospects": [
            [rule("status", "eq", "prospect"), rule("crm.has_open_deal", "is_true")],
            [rule("status", "eq", "lead"), rule("created", "last_days", 90)],
        ],
    }
    rules["Silent for 90 days"] = [
        [
            rule("status", "in", ["client", "prospect"]),
            rule("crm.last_interaction", "older_days", 90),
        ]
    ]
    for name, groups in rules.items():
        parties_services.segment_create(
            actor=head, name=name, kind="rule", rules={"groups": groups}
        )
    key_accounts = list(
        Deal.objects.filter(status=Deal.Status.WON)
        .order_by("-amount", "pk")
        .values_list("client_id", flat=True)[:60]
    )
    parties_services.segment_create(
        actor=head,
        name="Key accounts",
        description="Picked by the head of sales.",
        client_ids=list(dict.fromkeys(key_accounts))[:25],
    )
    return {"segments": len(rules) + 1}
