import random

import pytest

from satu.core.testing.helpers import make_user
from satu.crm import queries
from satu.crm.demo_marketing import load_marketing
from satu.crm.models import Lead, MarketingEvent, Touch
from satu.parties.tests.factories import ChannelFactory, ClientFactory

pytestmark = pytest.mark.django_db


def test_demo_marketing_loads(head_of_sales, manager):
    marketer = make_user("marketer", role="marketer")
    online = ChannelFactory(name="Online")
    ChannelFactory(name="Ads", parent=online)
    ChannelFactory(name="Radio")
    clients = [ClientFactory(owner=manager) for _ in range(25)]

    counts = load_marketing(
        rng=random.Random(7), clients=clients, users=[head_of_sales, marketer, manager]
    )

    assert counts["events"] == MarketingEvent.objects.count() == 6
    assert counts["leads"] == Lead.objects.count() == 150
    assert Lead.objects.filter(state="qualified").exists()
    assert Touch.objects.count() >= counts["participants"]
    from django.utils import timezone

    today = timezone.localdate()
    roi = queries.marketing_roi(
        model="first", date_from=today.replace(year=today.year - 1), date_to=today
    )
    assert roi["totals"]["cost"] > 0
