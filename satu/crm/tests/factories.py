import factory

from satu.crm.models import (
    Competitor,
    ContactReason,
    Deal,
    DealKind,
    Interaction,
    LossReason,
    Stage,
    StageRule,
)
from satu.parties.tests.factories import ClientFactory


class DealKindFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealKind

    name = factory.Sequence(lambda n: f"Kind {n}")
    control_mode = DealKind.ControlMode.MANUAL_STAGES


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    kind = factory.SubFactory(DealKindFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n + 1)


class StageRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageRule

    stage = factory.SubFactory(StageFactory)
    rule_type = StageRule.Type.REQUIRED_FIELD
    field_name = "amount"


class LossReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LossReason

    name = factory.Sequence(lambda n: f"Reason {n}")


class ContactReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactReason

    name = factory.Sequence(lambda n: f"Contact reason {n}")


class CompetitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competitor

    name = factory.Sequence(lambda n: f"Competitor {n}")


class DealFactory(factory.django.DjangoModelFactory):
    """A bare deal row (no history); use services.deal_create for history."""

    class Meta:
        model = Deal

    client = factory.SubFactory(ClientFactory)
    kind = factory.SubFactory(DealKindFactory)
    title = factory.Sequence(lambda n: f"Deal {n}")
    owner = factory.LazyAttribute(lambda o: o.client.owner)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    kind = Interaction.Kind.MEETING
    client = factory.SubFactory(ClientFactory)
    title = factory.Sequence(lambda n: f"Talk {n}")


def pipeline(names=("Lead", "Offer", "Contract"), mode="manual_stages"):
    """A deal kind with stages at positions 1..n; returns (kind, [stages])."""
    kind = DealKindFactory(control_mode=mode)
    stages = [
        StageFactory(kind=kind, name=name, position=i, probability=10 * i)
        for i, name in enumerate(names, start=1)
    ]
    return kind, stages


# ---------------------------------------------------------------- claims (CRM-7)


class ClaimCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.ClaimCategory"

    name = factory.Sequence(lambda n: f"Claim category {n}")


# ---------------------------------------------------------------- tasks (CRM-5)


def _tomorrow():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(days=1)


class TaskFactory(factory.django.DjangoModelFactory):
    """An open task due tomorrow; give `responsible` (and `client`)."""

    class Meta:
        model = "crm.Task"

    title = factory.Sequence(lambda n: f"Task {n}")
    due_at = factory.LazyFunction(lambda: _tomorrow())
    created_by = factory.LazyAttribute(lambda o: o.responsible)


# -------------------------------------------- leads, marketing (CRM-3/6, P6)


class MarketingEventFactory(factory.django.DjangoModelFactory):
    """An event of 1–2 March 2026; give `responsible`."""

    class Meta:
        model = "crm.MarketingEvent"

    name = factory.Sequence(lambda n: f"Event {n}")
    kind = "exhibition"
    starts_on = factory.LazyFunction(lambda: __import__("datetime").date(2026, 3, 1))
    ends_on = factory.LazyFunction(lambda: __import__("datetime").date(2026, 3, 2))


class LeadFactory(factory.django.DjangoModelFactory):
    """A new lead; give `owner`."""

    class Meta:
        model = "crm.Lead"

    person_name = factory.Sequence(lambda n: f"Person {n}")
    source = "manual"
