"""Demo marketing data: events with costs and participants, channel cost
lines over the last year, leads (some qualified) and touches for the demo
deals that came without one. Everything goes through the services, so
touches, audit and timelines are real.

Call it after `satu.crm.demo.load` inside the demo loader's transaction:

    from satu.crm import demo_marketing
    demo_marketing.load_marketing(
        rng=self.rng, clients=list(Client.objects.all()), users=staff_users
    )
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from satu.crm import services
from satu.crm.models import Deal, Interaction, Lead, Touch
from satu.parties.models import Channel

EVENTS = [
    ("Jakarta Industrial Expo", "exhibition", Decimal("85000000")),
    ("Surabaya dealer seminar", "seminar", Decimal("18000000")),
    ("Pump maintenance webinar", "webinar", Decimal("4500000")),
    ("Harvest season ad campaign", "ad_campaign", Decimal("60000000")),
    ("Bandung open house", "other", Decimal("12000000")),
    ("Energy saving webinar", "webinar", Decimal("3500000")),
]
FIRST = ["Agus", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gita", "Hendra", "Indah"]
LAST = ["Santoso", "Wijaya", "Pratama", "Lestari", "Saputra", "Hidayat", "Kurnia"]
COMPANIES = ["Tani", "Sumber", "Jaya", "Makmur", "Abadi", "Sentosa", "Mandiri"]
MESSAGES = [
    "Please send a price list.",
    "We need a quote for 5 units.",
    "Can someone call me about installation?",
    "Interested in a service contract.",
    "",
]
UNMET_REASONS = ["Out of stock", "Not in our range", "Price too high"]


def _with_role(users, role: str):
    for user in users:
        if user.groups.filter(name=role).exists():
            return user
    return None


def load_marketing(*, rng: random.Random, clients, users, progress=None) -> dict:
    """Create ~6 events (costs, participants), monthly channel costs for a
    year, ~150 leads (about a fifth qualified, a tenth disqualified) and
    touches for demo deals and interactions without one. Returns counts."""
    progress = progress or (lambda message: None)
    users = list(users)
    clients = list(clients)
    head = _with_role(users, "head_of_sales") or next(
        u for u in users if u.is_superuser
    )
    marketer = _with_role(users, "marketer") or head
    managers = [u for u in users if u.groups.filter(name="sales_manager").exists()]
    managers = managers or [head]
    today = timezone.localdate()
    leaves = list(Channel.objects.filter(is_active=True, children__isnull=True))
    counts = {"events": 0, "costs": 0, "participants": 0, "leads": 0, "touches": 0}

    for name in UNMET_REASONS:
        services.unmet_demand_reason_create(actor=head, name=name)
    progress("marketing events")
    events = []
    for i, (name, kind, budget) in enumerate(EVENTS):
        starts = today - timedelta(days=330 - i * 55)
        event = services.marketing_event_create(
            actor=marketer,
            name=name,
            kind=kind,
            starts_on=starts,
            ends_on=starts + timedelta(days=rng.choice([0, 1, 2])),
            channel_id=rng.choice(leaves).pk if leaves else None,
            budget=budget,
            currency="IDR",
        )
        events.append(event)
        counts["events"] += 1
        for share in ("0.55", "0.30", "0.10"):
            services.marketing_cost_create(
                actor=marketer,
                event_id=event.pk,
                amount=(budget * Decimal(share)).quantize(Decimal("1")),
                date=starts - timedelta(days=rng.randint(0, 20)),
                description=rng.choice(["Booth", "Venue", "Ads", "Catering"]),
            )
            counts["costs"] += 1
        for client in rng.sample(clients, min(len(clients), rng.randint(8, 20))):
            services.event_participant_add(
                actor=head,
                event_id=event.pk,
                client_id=client.pk,
                status=rng.choice(["registered", "attended", "attended"]),
            )
            counts["participants"] += 1

    progress("channel costs")
    for channel in leaves:
        monthly = Decimal(rng.choice([1500000, 2500000, 5000000, 7500000]))
        for month in range(12):
            services.marketing_cost_create(
                actor=marketer,
                channel_id=channel.pk,
                amount=monthly,
                date=today - timedelta(days=30 * month + rng.randint(0, 5)),
                currency="IDR",
                description="Monthly spend",
            )
            counts["costs"] += 1

    services.lead_form_create(
        actor=marketer,
        key="website",
        name="Contact us (website)",
        channel_id=leaves[0].pk if leaves else None,
        owner_id=managers[0].pk,
    )
    progress("leads")
    sources = ["web_form", "web_form", "email", "api", "manual", "import"]
    for i in range(150):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        owner = rng.choice(managers)
        event = rng.choice(events) if rng.random() < 0.3 else None
        lead = services.lead_create(
            actor=head,
            source=rng.choice(sources),
            company_name=(
                f"CV {rng.choice(COMPANIES)} {rng.choice(COMPANIES)} {i}"
                if rng.random() < 0.7
                else ""
            ),
            person_name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}{i}@example.id",
            message=rng.choice(MESSAGES),
            channel_id=rng.choice(leaves).pk if leaves else None,
            marketing_event_id=event.pk if event else None,
            owner_id=owner.pk,
        )
        Lead.objects.filter(pk=lead.pk).update(
            created_at=timezone.now() - timedelta(days=rng.randint(0, 360))
        )
        counts["leads"] += 1
        roll = rng.random()
        if roll < 0.2 and clients:
            services.lead_qualify(
                actor=head, lead_id=lead.pk, client_id=rng.choice(clients).pk
            )
        elif roll < 0.3:
            services.lead_disqualify(
                actor=head, lead_id=lead.pk, reason="Not a business customer"
            )

    progress("touches")
    touched = set(Touch.objects.values_list("source_type", "source_id"))
    for deal in Deal.objects.only("pk", "client_id", "created_at"):
        if ("crm.deal", deal.pk) not in touched and leaves and rng.random() < 0.8:
            services.touch_record(
                client_id=deal.client_id,
                source_type="crm.deal",
                source_id=deal.pk,
                channel_id=rng.choice(leaves).pk,
                event_id=rng.choice(events).pk if rng.random() < 0.2 else None,
                at=deal.created_at - timedelta(days=rng.randint(1, 60)),
            )
            counts["touches"] += 1
    for interaction in Interaction.objects.filter(channel__isnull=False).only(
        "pk", "client_id", "channel_id", "reason_id", "created_at"
    ):
        if ("crm.interaction", interaction.pk) not in touched:
            services.touch_record(
                client_id=interaction.client_id,
                source_type="crm.interaction",
                source_id=interaction.pk,
                channel_id=interaction.channel_id,
                reason_id=interaction.reason_id,
                at=interaction.created_at,
            )
            counts["touches"] += 1
    return counts
