"""Demo CRM data: two deal kinds with stages and rules, deals with a won/lost
history and interactions, for the clients the demo loader created. Called
once by satu.demo.loader inside its transaction; everything goes through
the services, so timelines, audit and stage history are real."""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from satu.crm import services
from satu.crm.models import (
    Competitor,
    ContactReason,
    Deal,
    DealKind,
    LossReason,
    Stage,
    StageRule,
)
from satu.parties.models import Client, ContactRole

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


def load(*, rng: random.Random, deals: int = 200, progress=None) -> dict:
    """Create the CRM demo; returns counts. `deals` scales everything
    (about five interactions per deal)."""
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

    for index in range(deals):
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
        if (index + 1) % 50 == 0:
            progress(f"{index + 1} of {deals} deals")
    # Interactions outside deals, up to about five per deal in all.
    while counts["interactions"] < deals * 5:
        client = rng.choice(clients)
        kind = rng.choice(["call", "call", "email", "sms", "meeting"])
        if rng.random() < 0.1:
            interact(
                client.owner,
                client,
                "planned",
                title="Call back",
                planned_at=timezone.now() + timedelta(days=rng.randint(1, 20)),
            )
        else:
            interact(client.owner, client, kind)
    counts["won"] = Deal.objects.filter(status=Deal.Status.WON).count()
    return counts
