from datetime import timedelta

import pytest
from django.utils import timezone

from satu.core.errors import NotFound
from satu.parties import queries
from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_manager_sees_own_clients_head_of_sales_sees_all(
    manager, other_manager, head_of_sales
):
    mine = ClientFactory(owner=manager, name="A mine")
    theirs = ClientFactory(owner=other_manager, name="B theirs")

    assert list(queries.client_list(actor=manager)) == [mine]
    assert list(queries.client_list(actor=head_of_sales)) == [mine, theirs]
    with pytest.raises(NotFound):
        queries.client_get(actor=manager, client_id=theirs.pk)
    with pytest.raises(NotFound):
        queries.client_get(actor=manager, client_id="not-a-number")


def test_search_is_case_insensitive_substring(manager):
    hit = ClientFactory(
        owner=manager,
        name="PT Sumber Rejeki",
        search_text="pt sumber rejeki | 6281234567890 | 081234567890",
    )
    ClientFactory(owner=manager, name="Other", search_text="other")

    assert list(queries.client_list(actor=manager, search="SUMBER rej")) == [hit]
    assert list(queries.client_list(actor=manager, search="0812-3456")) == [hit]
    assert list(queries.client_list(actor=manager, search="+62 812 3456 7890")) == [hit]


def test_timeline_pages_newest_first_in_constant_queries(
    manager, django_assert_num_queries
):
    client = ClientFactory(owner=manager)
    start = timezone.now() - timedelta(days=30)
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            client=client,
            kind="note" if i % 2 else "call",
            summary=f"e{i}",
            at=start + timedelta(minutes=i),
        )
        for i in range(120)
    )

    with django_assert_num_queries(1):
        first, cursor = queries.timeline_page(client=client, limit=50)
    with django_assert_num_queries(2):
        second, cursor2 = queries.timeline_page(
            client=client, before_id=cursor, limit=50
        )
    third, cursor3 = queries.timeline_page(client=client, before_id=cursor2, limit=50)

    summaries = [e.summary for e in first + second + third]
    assert summaries == [f"e{i}" for i in range(119, -1, -1)]
    assert cursor3 is None
    calls, _ = queries.timeline_page(client=client, kinds=["call"], limit=500)
    assert len(calls) == 60


def test_duplicates_look_at_all_clients_but_reveal_only_names(manager, other_manager):
    theirs = ClientFactory(
        owner=other_manager, name="PT Cahaya Terang", email="info@cahaya.id"
    )
    theirs.name_key = queries.name_key(theirs.name)
    theirs.save()

    found = queries.client_duplicates(name="Cahaya Terang", email="INFO@cahaya.id")

    assert found == [
        {
            "id": theirs.pk,
            "name": "PT Cahaya Terang",
            "reasons": ["same email", "similar name"],
        }
    ]


def test_timeline_text_is_rendered_in_the_readers_language(manager):
    from django.utils import translation

    from satu.parties import services

    client = services.client_create(actor=manager, name="PT Bahasa")
    services.client_update(actor=manager, client_id=client.pk, status="client")
    entries, _cursor = queries.timeline_page(client=client)
    texts_en = [queries.timeline_summary(e) for e in entries]
    with translation.override("id"):
        texts_id = [queries.timeline_summary(e) for e in entries]

    assert texts_en == [
        "Status changed from Prospect to Client",
        f"Client registered by {manager}",
    ]
    assert texts_id[0] == "Status diubah dari Prospek menjadi Klien"
