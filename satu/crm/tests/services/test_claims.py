from datetime import date, timedelta

import pytest
from django.utils import timezone

from satu.core.errors import NotFound, ValidationFailed, VersionConflict
from satu.core.models import AuditEntry, NumberCounter
from satu.crm import queries, services
from satu.crm.errors import ClaimBadTransition
from satu.crm.models import Claim
from satu.crm.tests.factories import ClaimCategoryFactory
from satu.parties.models import TimelineEntry

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def category(db):
    return ClaimCategoryFactory(name="Quality")


def register(actor, client, category, **kw):
    data = {
        "client_id": client.pk,
        "category_id": category.pk,
        "description": "Pump leaks",
        "deadline": today() + timedelta(days=5),
    } | kw
    return services.claim_create(actor=actor, **data)


def test_create_numbers_audits_and_timeline(manager, client_of, category):
    client = client_of(manager)

    first = register(manager, client, category, product_ref="Pump P-100")
    second = register(manager, client, category)

    year = today().year
    assert (first.number, second.number) == (
        f"CLM-{year}-0001",
        f"CLM-{year}-0002",
    )
    assert (first.state, first.responsible, first.product_ref, first.version) == (
        "registered",
        manager,
        "Pump P-100",
        1,
    )
    assert AuditEntry.objects.filter(object_id=first.pk, action="created").count() == 1
    entry = TimelineEntry.objects.get(client=client, subject_id=first.pk)
    assert (entry.kind, entry.summary, entry.url) == (
        "claim.created",
        f"Claim CLM-{year}-0001 registered",
        f"/claims/{first.pk}/",
    )
    assert NumberCounter.objects.get(key="CLM", year=year).last == 2


def test_failed_creation_consumes_no_number(manager, client_of, category):
    client = client_of(manager)
    register(manager, client, category)

    with pytest.raises(ValidationFailed):
        register(manager, client, category, deadline=today() - timedelta(days=1))
    third = register(manager, client, category)

    assert third.number == f"CLM-{today().year}-0002"


def test_numbers_are_per_year():
    from django.db import transaction

    from satu.core import numbering

    with transaction.atomic():
        numbers = [
            numbering.next_number("X", 2025),
            numbering.next_number("X", 2026),
            numbering.next_number("X", 2025),
        ]
    assert numbers == [1, 1, 2]
    assert numbering.formatted("CLM", 2025, 7) == "CLM-2025-0007"


def test_deadline_in_past_is_refused_and_nothing_written(manager, client_of, category):
    client = client_of(manager)

    with pytest.raises(ValidationFailed) as exc:
        register(manager, client, category, deadline=today() - timedelta(days=1))

    assert exc.value.fields == {"deadline": ["The deadline cannot be in the past."]}
    assert Claim.objects.count() == 0
    assert TimelineEntry.objects.filter(kind__startswith="claim.").count() == 0
    assert NumberCounter.objects.filter(last__gt=0).count() == 0


def test_client_of_another_manager_is_not_found(
    manager, other_manager, client_of, category
):
    client = client_of(other_manager)

    with pytest.raises(NotFound):
        register(manager, client, category)
    assert Claim.objects.count() == 0


def test_deal_and_interaction_must_belong_to_the_client(
    manager, client_of, category, kind_and_stages
):
    from satu.crm.tests.factories import DealFactory

    client = client_of(manager)
    other_client = client_of(manager)
    foreign_deal = DealFactory(client=other_client, owner=manager)
    own_deal = DealFactory(client=client, owner=manager)

    with pytest.raises(ValidationFailed) as exc:
        register(manager, client, category, deal_id=foreign_deal.pk)
    assert exc.value.fields == {"deal_id": ["Choose a deal of this client."]}

    claim = register(manager, client, category, deal_id=own_deal.pk)
    assert claim.deal == own_deal


def test_transitions_with_decision_and_outcome(manager, client_of, category):
    claim = register(manager, client_of(manager), category)

    services.claim_transition(actor=manager, claim_id=claim.pk, state="investigating")
    services.claim_transition(
        actor=manager, claim_id=claim.pk, state="decision", decision="refund"
    )
    closed = services.claim_transition(
        actor=manager, claim_id=claim.pk, state="closed", outcome="Money returned"
    )

    assert (closed.state, closed.decision, closed.outcome, closed.version) == (
        "closed",
        "refund",
        "Money returned",
        4,
    )
    assert closed.closed_at is not None
    kinds = list(
        TimelineEntry.objects.filter(subject_id=claim.pk)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["claim.created"] + ["claim.state_changed"] * 3
    last = TimelineEntry.objects.filter(subject_id=claim.pk).order_by("-id").first()
    assert last.summary == f"Claim {claim.number}: Decision → Closed"
    assert (
        AuditEntry.objects.filter(object_id=claim.pk, action="state_changed").count()
        == 3
    )


def test_bad_transition_names_allowed_states(manager, client_of, category):
    claim = register(manager, client_of(manager), category)

    with pytest.raises(ClaimBadTransition) as exc:
        services.claim_transition(actor=manager, claim_id=claim.pk, state="closed")

    assert exc.value.http_status == 409
    assert exc.value.fields == {"state": ["Allowed: investigating."]}
    claim.refresh_from_db()
    assert (claim.state, claim.version) == ("registered", 1)


def test_decision_required_and_outcome_required(manager, client_of, category):
    claim = register(manager, client_of(manager), category)
    services.claim_transition(actor=manager, claim_id=claim.pk, state="investigating")

    with pytest.raises(ValidationFailed) as exc:
        services.claim_transition(actor=manager, claim_id=claim.pk, state="decision")
    assert exc.value.fields == {"decision": ["Choose the decision."]}

    services.claim_transition(
        actor=manager, claim_id=claim.pk, state="decision", decision="rejected"
    )
    with pytest.raises(ValidationFailed) as exc:
        services.claim_transition(actor=manager, claim_id=claim.pk, state="closed")
    assert exc.value.fields == {"outcome": ["Describe the outcome to close the claim."]}
    claim.refresh_from_db()
    assert (claim.state, claim.decision, claim.version) == ("decision", "rejected", 3)


def test_update_checks_version(manager, client_of, category):
    claim = register(manager, client_of(manager), category)
    services.claim_update(actor=manager, claim_id=claim.pk, product_ref="Valve")

    with pytest.raises(VersionConflict):
        services.claim_update(
            actor=manager, claim_id=claim.pk, version=1, description="Other"
        )
    claim.refresh_from_db()
    assert (claim.product_ref, claim.description, claim.version) == (
        "Valve",
        "Pump leaks",
        2,
    )


def test_responsible_sees_claim_of_invisible_client(
    manager, other_manager, client_of, category
):
    claim = register(
        manager, client_of(manager), category, responsible_id=other_manager.pk
    )

    assert queries.claim_get(actor=other_manager, claim_id=claim.pk) == claim
    assert list(queries.claim_list(actor=other_manager)) == [claim]


def test_overdue_filter(manager, client_of, category):
    client = client_of(manager)
    late = register(manager, client, category)
    on_time = register(manager, client, category)
    closed_late = register(manager, client, category)
    Claim.objects.filter(pk__in=[late.pk, closed_late.pk]).update(
        deadline=today() - timedelta(days=2)
    )
    Claim.objects.filter(pk=closed_late.pk).update(state="closed")

    assert list(queries.claim_list(actor=manager, overdue=True)) == [late]
    assert set(queries.claim_list(actor=manager, overdue=False)) == {
        on_time,
        closed_late,
    }


def test_stats(manager, head_of_sales, client_of, category):
    client = client_of(manager)
    other_category = ClaimCategoryFactory(name="Delivery")
    a = register(manager, client, category)
    register(manager, client, category)
    register(
        manager,
        client,
        other_category,
        responsible_id=head_of_sales.pk,
        product_ref="Valve V-1",
    )
    for state, extra in [
        ("investigating", {}),
        ("decision", {"decision": "repair"}),
        ("closed", {"outcome": "Fixed"}),
    ]:
        services.claim_transition(actor=manager, claim_id=a.pk, state=state, **extra)
    created = timezone.now() - timedelta(days=3)
    Claim.objects.filter(pk=a.pk).update(
        created_at=created, closed_at=created + timedelta(days=2)
    )

    stats = queries.claim_stats(
        actor=head_of_sales, date_from=today() - timedelta(days=30), date_to=today()
    )

    assert stats["total"] == 3
    assert [(r["category__name"], r["count"]) for r in stats["by_category"]] == [
        ("Quality", 2),
        ("Delivery", 1),
    ]
    assert [(r["responsible_id"], r["count"]) for r in stats["by_responsible"]] == [
        (manager.pk, 2),
        (head_of_sales.pk, 1),
    ]
    assert [(r["decision"], r["count"]) for r in stats["by_decision"]] == [
        ("", 2),
        ("repair", 1),
    ]
    assert [(r["state"], r["count"]) for r in stats["by_state"]] == [
        ("registered", 2),
        ("closed", 1),
    ]
    assert [(r["product_ref"], r["count"]) for r in stats["by_product"]] == [
        ("", 2),
        ("Valve V-1", 1),
    ]
    assert sum(r["count"] for r in stats["by_month"]) == 3
    assert stats["avg_days_to_close"] == 2.0
    assert stats["overdue"] == 0
    empty = queries.claim_stats(
        actor=manager, date_from=date(2000, 1, 1), date_to=date(2000, 12, 31)
    )
    assert (empty["total"], empty["avg_days_to_close"], empty["by_month"]) == (
        0,
        None,
        [],
    )


def test_timeline_summary_is_translated(manager, client_of, category):
    from django.utils import translation

    from satu.parties.queries import timeline_summary

    claim = register(manager, client_of(manager), category)
    services.claim_transition(actor=manager, claim_id=claim.pk, state="investigating")
    entries = TimelineEntry.objects.filter(subject_id=claim.pk).order_by("id")

    with translation.override("id"):
        texts = [timeline_summary(e) for e in entries]

    assert texts == [
        f"Keluhan {claim.number} terdaftar",
        f"Keluhan {claim.number}: Terdaftar → Diselidiki",
    ]
