"""Client list, create/edit forms, archive and merge screens."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from satu.core import custom_fields
from satu.core.models import AuditEntry
from satu.parties import services
from satu.parties.models import Client, ContactRole, TimelineEntry
from satu.parties.tests.factories import (
    ChannelFactory,
    ClientFactory,
    ClientGroupFactory,
    ContactRoleFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "client-results"}


def names_in(response) -> list[str]:
    """Client names of the list table, in order."""
    body = response.content.decode()
    return re.findall(r'<a href="/clients/\d+/">([^<]+)</a>', body)


def client_form(**overrides) -> dict:
    data = {
        "name": "PT Sinar Abadi",
        "kind": "company",
        "status": "prospect",
        "phone": "",
        "email": "",
        "website": "",
        "region": "",
        "address": "",
        "notes": "",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- list


def test_manager_lists_only_own_clients_with_columns(client, manager, other_manager):
    group = ClientGroupFactory(name="Retail")
    mine = ClientFactory(
        owner=manager,
        name="PT Alpha",
        phone="+62215550123",
        email="a@alpha.id",
        region="Jakarta",
        status="lead",
    )
    mine.groups.add(group)
    ClientFactory(owner=other_manager, name="PT Beta")
    client.force_login(manager)

    response = client.get(reverse("client_list"))

    assert response.status_code == 200
    assert names_in(response) == ["PT Alpha"]
    body = response.content.decode()
    assert '<span class="badge badge-lead">Lead</span>' in body
    assert "+62 21 5550123" in body
    assert "a@alpha.id" in body and "Jakarta" in body and "Retail" in body
    # A manager who sees only his clients gets no owner filter.
    assert 'name="owner"' not in body


def test_search_finds_a_client_by_its_contact_phone(client, manager):
    target = services.client_create(actor=manager, name="PT Gamma")
    services.contact_create(
        actor=manager,
        first_name="Sari",
        phones=["0812 1111 2222"],
        client_roles=[{"client_id": target.pk, "role": "Buyer"}],
    )
    services.client_create(actor=manager, name="PT Delta")
    client.force_login(manager)

    response = client.get(reverse("client_list"), {"q": "0812-1111-2222"})

    assert names_in(response) == ["PT Gamma"]


def test_filters_by_status_group_channel_and_custom_field(
    client, head_of_sales, admin_user
):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="tier",
        label="Tier",
        field_type="choice",
        choices=["A", "B"],
    )
    group, channel = ClientGroupFactory(), ChannelFactory()
    hit = ClientFactory(
        name="PT Hit", status="client", source_channel=channel, custom={"tier": "A"}
    )
    hit.groups.add(group)
    ClientFactory(
        name="PT Miss tier",
        status="client",
        source_channel=channel,
        custom={"tier": "B"},
    ).groups.add(group)
    ClientFactory(
        name="PT Miss status",
        status="lead",
        source_channel=channel,
        custom={"tier": "A"},
    ).groups.add(group)
    client.force_login(head_of_sales)

    response = client.get(
        reverse("client_list"),
        {
            "status": "client",
            "group": group.pk,
            "channel": channel.pk,
            "cf_tier": "A",
        },
    )

    assert names_in(response) == ["PT Hit"]
    assert 'name="owner"' in response.content.decode()


def test_bad_custom_filter_value_is_shown_not_a_crash(client, manager, admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="since",
        label="Customer since",
        field_type="date",
    )
    ClientFactory(owner=manager)
    client.force_login(manager)

    response = client.get(reverse("client_list"), {"cf_since": "yesterday"})

    assert response.status_code == 422
    assert "Customer since: Enter a date as YYYY-MM-DD." in response.content.decode()


def test_archived_clients_only_with_the_filter(client, manager):
    ClientFactory(owner=manager, name="PT Live")
    ClientFactory(owner=manager, name="PT Gone", is_archived=True)
    client.force_login(manager)

    assert names_in(client.get(reverse("client_list"))) == ["PT Live"]
    assert names_in(client.get(reverse("client_list"), {"archived": "on"})) == [
        "PT Gone"
    ]


def test_htmx_request_gets_only_the_results_fragment(client, manager):
    ClientFactory(owner=manager, name="PT Alpha")
    client.force_login(manager)

    response = client.get(reverse("client_list"), {"q": "alp"}, **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="client-results"')
    assert "<html" not in body
    assert names_in(response) == ["PT Alpha"]
    assert "HX-Request" in response["Vary"]


def test_paginates_fifty_per_page(client, manager):
    for i in range(51):
        ClientFactory(owner=manager, name=f"Client {i:03d}")
    client.force_login(manager)

    first = client.get(reverse("client_list"))
    second = client.get(reverse("client_list"), {"page": 2})

    assert len(names_in(first)) == 50
    assert names_in(second) == ["Client 050"]
    assert "51 in all" in first.content.decode()


def test_list_query_count_does_not_grow_with_rows(
    client, head_of_sales, django_assert_num_queries
):
    group = ClientGroupFactory()

    def add(n):
        for _i in range(n):
            ClientFactory(owner=head_of_sales).groups.add(group)

    add(2)
    client.force_login(head_of_sales)
    client.get(reverse("client_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("client_list"))
    add(40)

    with django_assert_num_queries(len(few)):
        response = client.get(reverse("client_list"))
    assert len(names_in(response)) == 42


# ---------------------------------------------------------------- create / edit


def test_create_saves_client_with_groups_and_custom_field(client, manager, admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="tier",
        label="Tier",
        field_type="choice",
        choices=["A", "B"],
    )
    group = ClientGroupFactory()
    client.force_login(manager)

    response = client.post(
        reverse("client_create"),
        client_form(
            phone="0812 3456 7890",
            groups=[group.pk],
            cf_tier="B",
        ),
    )

    created = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=[created.pk])
    assert (created.name, created.owner, created.phone) == (
        "PT Sinar Abadi",
        manager,
        "+6281234567890",
    )
    assert list(created.groups.all()) == [group]
    assert created.custom == {"tier": "B"}


def test_create_shows_field_errors_and_saves_nothing(client, manager):
    client.force_login(manager)

    response = client.post(reverse("client_create"), client_form(phone="12", name=""))

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert Client.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_service_errors_land_on_their_fields(client, manager, admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="tax_ok",
        label="Tax checked",
        field_type="bool",
        required=True,
    )
    client.force_login(manager)

    bad_phone = client.post(reverse("client_create"), client_form(phone="12"))
    missing_custom = client.post(reverse("client_create"), client_form())

    # Both pass the form's own checks; the service refuses them.
    assert (bad_phone.status_code, missing_custom.status_code) == (422, 422)
    body = bad_phone.content.decode()
    phone_row = body.split('class="field-phone')[1].split('class="field-email')[0]
    assert "Enter a valid phone number" in phone_row
    body = missing_custom.content.decode()
    custom_row = body.split('class="field-cf_tax_ok')[1].split("</div>")[0]
    assert "Tax checked is required." in custom_row
    assert Client.objects.count() == 0


def test_duplicate_warning_then_create_anyway(client, manager, other_manager):
    existing = services.client_create(
        actor=other_manager, name="PT Sinar Abadi", phone="+62215550123"
    )
    client.force_login(manager)

    warned = client.post(reverse("client_create"), client_form(phone="021 5550123"))

    assert warned.status_code == 409
    body = warned.content.decode()
    assert f'href="/clients/{existing.pk}/"' in body
    assert "same phone" in body and 'name="allow_duplicate"' in body
    assert Client.objects.count() == 1

    confirmed = client.post(
        reverse("client_create"), client_form(phone="021 5550123", allow_duplicate="on")
    )

    assert confirmed.status_code == 302
    assert Client.objects.filter(owner=manager).count() == 1


def test_first_create_form_has_no_create_anyway_box(client, manager):
    client.force_login(manager)

    response = client.get(reverse("client_create"))

    assert response.status_code == 200
    assert 'name="allow_duplicate"' not in response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_edit_changes_fields_and_custom_value(client, manager, admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="vip",
        label="VIP",
        field_type="bool",
    )
    target = services.client_create(actor=manager, name="PT Old", custom={"vip": True})
    client.force_login(manager)
    form = client.get(reverse("client_edit", args=[target.pk]))
    assert '<option value="true" selected>' in form.content.decode()

    response = client.post(
        reverse("client_edit", args=[target.pk]),
        client_form(
            name="PT New",
            status="client",
            version=target.version,
            cf_vip="false",
        ),
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.name, target.status, target.custom) == (
        "PT New",
        "client",
        {"vip": False},
    )
    entry = AuditEntry.objects.get(object_id=target.pk, action="updated")
    assert entry.changes["name"] == ["PT Old", "PT New"]


def test_stale_edit_shows_version_conflict_and_changes_nothing(client, manager):
    target = services.client_create(actor=manager, name="PT Old")
    stale = target.version
    services.client_update(actor=manager, client_id=target.pk, notes="someone else")
    client.force_login(manager)

    response = client.post(
        reverse("client_edit", args=[target.pk]),
        client_form(
            name="PT Mine",
            version=stale,
        ),
    )

    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    target.refresh_from_db()
    assert (target.name, target.notes) == ("PT Old", "someone else")


def test_another_managers_client_is_not_found(client, manager, other_manager):
    theirs = ClientFactory(owner=other_manager)
    client.force_login(manager)

    for name in ("client_detail", "client_edit", "client_timeline"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    response = client.post(
        reverse("client_archive", args=[theirs.pk]), {"archived": "1"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_archived is False


def test_director_views_but_may_not_create_or_edit(client, director):
    target = ClientFactory(name="PT Seen")
    client.force_login(director)

    assert client.get(reverse("client_list")).status_code == 200
    card = client.get(reverse("client_detail", args=[target.pk]))
    assert card.status_code == 200
    assert reverse("client_edit", args=[target.pk]) not in card.content.decode()
    assert client.get(reverse("client_create")).status_code == 403
    assert client.post(reverse("client_create"), client_form()).status_code == 403
    assert client.get(reverse("client_edit", args=[target.pk])).status_code == 403
    response = client.post(
        reverse("client_edit", args=[target.pk]), client_form(name="X")
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.name == "PT Seen"
    assert Client.objects.count() == 1


def test_archive_and_restore(client, manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)

    client.post(reverse("client_archive", args=[target.pk]), {"archived": "1"})
    target.refresh_from_db()
    assert target.is_archived is True
    card = client.get(reverse("client_detail", args=[target.pk])).content.decode()
    assert "Restore" in card and reverse("client_edit", args=[target.pk]) not in card

    client.post(reverse("client_archive", args=[target.pk]), {"archived": "0"})
    target.refresh_from_db()
    assert target.is_archived is False


# ---------------------------------------------------------------- merge


def test_merge_flow_moves_records_and_lands_on_the_survivor(client, head_of_sales):
    keep = ClientFactory(name="PT Maju Jaya")
    other = ClientFactory(name="Maju Jaya (old)")
    role = ContactRoleFactory(client=other)
    client.force_login(head_of_sales)

    picker = client.get(reverse("client_merge", args=[keep.pk]), {"q": "maju"})
    assert (
        reverse("client_merge_confirm", args=[keep.pk, other.pk])
        in picker.content.decode()
    )
    assert reverse("client_merge_confirm", args=[keep.pk, keep.pk]) not in (
        picker.content.decode()
    )
    confirm = client.get(reverse("client_merge_confirm", args=[keep.pk, other.pk]))
    assert "This cannot be undone." in confirm.content.decode()

    response = client.post(
        reverse("client_merge_confirm", args=[keep.pk, other.pk]), {"survivor": keep.pk}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=[keep.pk])
    other.refresh_from_db()
    assert other.merged_into == keep and other.is_archived
    assert ContactRole.objects.get(pk=role.pk).client == keep
    assert TimelineEntry.objects.filter(client=keep, kind="client.merged").exists()


def test_merge_can_keep_the_other_client(client, head_of_sales):
    first, second = ClientFactory(name="A"), ClientFactory(name="B")
    client.force_login(head_of_sales)

    response = client.post(
        reverse("client_merge_confirm", args=[first.pk, second.pk]),
        {"survivor": second.pk},
    )

    assert response["Location"] == reverse("client_detail", args=[second.pk])
    first.refresh_from_db()
    assert first.merged_into == second


def test_merge_needs_the_merge_permission(client, manager):
    a, b = ClientFactory(owner=manager), ClientFactory(owner=manager)
    client.force_login(manager)

    assert client.get(reverse("client_merge", args=[a.pk])).status_code == 403
    response = client.post(
        reverse("client_merge_confirm", args=[a.pk, b.pk]), {"survivor": a.pk}
    )
    assert response.status_code == 403
    b.refresh_from_db()
    assert b.merged_into is None
