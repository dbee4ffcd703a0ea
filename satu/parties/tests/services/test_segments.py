"""Segments: rule checking, computed membership, manual groups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from satu.core import custom_fields
from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry
from satu.core.testing.helpers import make_user
from satu.parties import queries, segments, services
from satu.parties.errors import SegmentNotEditable, SegmentRuleInvalid
from satu.parties.models import Client, ClientGroup
from satu.parties.tests.factories import (
    ChannelFactory,
    ClientFactory,
    ClientGroupFactory,
)

pytestmark = pytest.mark.django_db


def rule(field, operator, value=None):
    return {"field": field, "operator": operator, "value": value}


def members(segment):
    return set(segment.clients.values_list("name", flat=True))


def make_rule_segment(actor, *groups, name="Segment"):
    return services.segment_create(
        actor=actor, name=name, kind="rule", rules={"groups": list(groups)}
    )


def test_rule_segment_stores_the_matching_live_clients(head_of_sales):
    # given clients of several statuses, one archived, one merged away
    ClientFactory(name="Active A", status="client", region="Jawa Barat")
    ClientFactory(name="Active B", status="client", region="Bali")
    ClientFactory(name="Prospect", status="prospect", region="Jawa Barat")
    ClientFactory(name="Archived", status="client", is_archived=True)
    survivor = ClientFactory(name="Survivor", status="lead")
    ClientFactory(name="Merged", status="client", merged_into=survivor)

    # when a segment "clients in Jawa" is created
    segment = make_rule_segment(
        head_of_sales,
        [rule("status", "eq", "client"), rule("region", "contains", "jawa")],
    )

    # then exactly the live matching client is a member, and counted
    assert members(segment) == {"Active A"}
    segment.refresh_from_db()
    assert segment.kind == ClientGroup.Kind.RULE
    assert segment.member_count == 1
    assert segment.recomputed_at is not None
    assert AuditEntry.objects.filter(object_id=segment.pk, action="created").exists()


def test_condition_groups_are_alternatives(head_of_sales):
    ClientFactory(name="Bali client", status="client", region="Bali")
    ClientFactory(name="Lead anywhere", status="lead", region="Papua")
    ClientFactory(name="Former", status="former", region="Papua")
    segment = make_rule_segment(
        head_of_sales,
        [rule("status", "eq", "client"), rule("region", "eq", "bali")],
        [rule("status", "in", ["lead"])],
    )
    assert members(segment) == {"Bali client", "Lead anywhere"}


def test_source_channel_includes_sub_channels(head_of_sales):
    online = ChannelFactory(name="Online")
    ads = ChannelFactory(name="Ads", parent=online)
    google = ChannelFactory(name="Google", parent=ads)
    fair = ChannelFactory(name="Fair")
    ClientFactory(name="From Google", source_channel=google)
    ClientFactory(name="From Online", source_channel=online)
    ClientFactory(name="From Fair", source_channel=fair)
    ClientFactory(name="Unknown source")

    segment = make_rule_segment(
        head_of_sales, [rule("source_channel", "eq", online.pk)]
    )
    assert members(segment) == {"From Google", "From Online"}

    others = make_rule_segment(
        head_of_sales, [rule("source_channel", "empty")], name="No source"
    )
    assert members(others) == {"Unknown source"}


def test_custom_fields_owner_created_and_groups(head_of_sales, manager):
    admin = make_user("admin", role="administrator")
    custom_fields.custom_field_create(
        actor=admin,
        object_type="parties.client",
        code="employees",
        label="Employees",
        field_type="number",
    )
    custom_fields.custom_field_create(
        actor=admin,
        object_type="parties.client",
        code="vip",
        label="VIP",
        field_type="bool",
    )
    vip = ClientGroupFactory(name="Fair visitors")
    big = ClientFactory(
        name="Big", owner=manager, custom={"employees": "120", "vip": True}
    )
    ClientFactory(name="Small", owner=manager, custom={"employees": "9"})
    ClientFactory(name="Big other", custom={"employees": "500"})
    big.groups.add(vip)
    old = ClientFactory(name="Old", custom={"employees": "1000"})
    Client.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )

    assert members(
        make_rule_segment(
            head_of_sales,
            [rule("cf.employees", "gte", "100"), rule("owner", "eq", manager.pk)],
            name="Big of manager",
        )
    ) == {"Big"}
    assert members(
        make_rule_segment(head_of_sales, [rule("cf.vip", "is_true")], name="VIP")
    ) == {"Big"}
    assert members(
        make_rule_segment(
            head_of_sales,
            [rule("cf.employees", "gt", "99"), rule("created", "last_days", 30)],
            name="New and big",
        )
    ) == {"Big", "Big other"}
    assert members(
        make_rule_segment(
            head_of_sales, [rule("groups", "in", [vip.pk])], name="Visitors"
        )
    ) == {"Big"}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (rule("shoe_size", "eq", "42"), "Unknown field “shoe_size”"),
        (rule("status", "gt", "client"), "cannot be tested with “gt”"),
        (rule("status", "eq", "vip"), "Choose a value from the list"),
        (rule("created", "last_days", "soon"), "whole number of days"),
        (rule("created", "before", "31/12/2025"), "YYYY-MM-DD"),
        (rule("region", "contains", ""), "Enter a value"),
        ({"field": "status"}, "cannot be tested with"),
        ("status = client", "needs a field and an operator"),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_stored(head_of_sales, condition, message):
    ClientFactory(status="client")
    with pytest.raises(SegmentRuleInvalid) as caught:
        make_rule_segment(head_of_sales, [rule("status", "eq", "client"), condition])
    assert caught.value.code == "parties.segment_rule_invalid"
    assert caught.value.http_status == 422
    assert message in str(caught.value)
    assert "groups.0.1" in caught.value.fields
    assert ClientGroup.objects.count() == 0
    assert Client.groups.through.objects.count() == 0


def test_empty_rules_are_refused(head_of_sales):
    with pytest.raises(SegmentRuleInvalid):
        make_rule_segment(head_of_sales)
    with pytest.raises(SegmentRuleInvalid):
        services.segment_create(
            actor=head_of_sales, name="x", kind="rule", rules={"groups": [[]]}
        )
    assert ClientGroup.objects.count() == 0


def test_recompute_adds_and_removes(head_of_sales):
    stays = ClientFactory(name="Stays", status="client")
    leaves = ClientFactory(name="Leaves", status="client")
    segment = make_rule_segment(head_of_sales, [rule("status", "eq", "client")])
    Client.objects.filter(pk=leaves.pk).update(status="former")
    ClientFactory(name="Joins", status="client")

    result = services.segment_recompute(actor=head_of_sales, segment_id=segment.pk)

    assert result == {"members": 2, "added": 1, "removed": 1}
    assert members(segment) == {"Stays", "Joins"}
    assert stays.groups.filter(pk=segment.pk).exists()


def test_update_rules_recomputes_and_checks_version(head_of_sales):
    ClientFactory(name="A", status="client")
    ClientFactory(name="B", status="lead")
    segment = make_rule_segment(head_of_sales, [rule("status", "eq", "client")])
    services.segment_update(
        actor=head_of_sales,
        segment_id=segment.pk,
        version=1,
        rules={"groups": [[rule("status", "eq", "lead")]]},
    )
    assert members(segment) == {"B"}
    from satu.core.errors import VersionConflict

    with pytest.raises(VersionConflict):
        services.segment_update(
            actor=head_of_sales, segment_id=segment.pk, version=1, name="Stale"
        )
    with pytest.raises(SegmentRuleInvalid):
        services.segment_update(
            actor=head_of_sales,
            segment_id=segment.pk,
            rules={"groups": [[rule("nope", "eq", 1)]]},
        )
    segment.refresh_from_db()
    assert (segment.version, segment.name, segment.rules["groups"][0][0]["value"]) == (
        2,
        "Segment",
        "lead",
    )


def test_recompute_all_runs_active_rule_segments(head_of_sales):
    segment = make_rule_segment(head_of_sales, [rule("status", "eq", "client")])
    ClientFactory(name="Late", status="client")
    assert services.segments_recompute_all() == 1
    assert members(segment) == {"Late"}


def test_manual_segment_members(head_of_sales):
    a, b = ClientFactory(name="A"), ClientFactory(name="B")
    segment = services.segment_create(
        actor=head_of_sales, name="Hand picked", client_ids=[a.pk]
    )
    assert members(segment) == {"A"}
    services.segment_members_change(
        actor=head_of_sales, segment_id=segment.pk, add=[b.pk], remove=[a.pk]
    )
    segment.refresh_from_db()
    assert members(segment) == {"B"}
    assert segment.member_count == 1
    with pytest.raises(SegmentNotEditable):
        services.segment_recompute(actor=head_of_sales, segment_id=segment.pk)


def test_rule_segment_members_cannot_be_picked_by_hand(head_of_sales):
    client = ClientFactory(name="A", status="client")
    manual = ClientGroupFactory(name="Manual")
    segment = make_rule_segment(head_of_sales, [rule("status", "eq", "client")])
    with pytest.raises(SegmentNotEditable):
        services.segment_members_change(
            actor=head_of_sales, segment_id=segment.pk, remove=[client.pk]
        )
    with pytest.raises(ValidationFailed) as caught:
        services.client_update(
            actor=head_of_sales, client_id=client.pk, group_ids=[segment.pk]
        )
    assert "group_ids" in caught.value.fields
    # editing the client's manual groups keeps its computed segments
    services.client_update(
        actor=head_of_sales, client_id=client.pk, group_ids=[manual.pk]
    )
    assert set(client.groups.values_list("name", flat=True)) == {"Manual", "Segment"}


def test_sales_manager_may_not_create_segments(manager):
    with pytest.raises(PermissionDenied):
        services.segment_create(actor=manager, name="Mine")
    assert ClientGroup.objects.count() == 0


def test_members_and_preview_follow_record_rules(head_of_sales, manager):
    ClientFactory(name="Mine", owner=manager, status="client")
    ClientFactory(name="Not mine", status="client")
    segment = make_rule_segment(head_of_sales, [rule("status", "eq", "client")])
    shown = queries.segment_members(actor=manager, segment=segment)
    assert [c.name for c in shown] == ["Mine"]
    cleaned = segments.rules_clean({"groups": [[rule("status", "eq", "client")]]})
    assert queries.segment_preview_count(actor=manager, rules=cleaned) == 1
    assert queries.segment_preview_count(actor=head_of_sales, rules=cleaned) == 2


def test_registered_fields_extend_rules(head_of_sales):
    ClientFactory(name="Alpha")
    ClientFactory(name="Beta")
    segments.register_segment_field(
        "test.initial",
        "Initial",
        "text",
        ("eq",),
        lambda qs, op, value: qs.filter(name__startswith=value),
    )
    try:
        segment = make_rule_segment(head_of_sales, [rule("test.initial", "eq", "B")])
        assert members(segment) == {"Beta"}
        codes = {f["code"] for f in segments.field_catalogue()}
        assert {"status", "source_channel", "test.initial"} <= codes
    finally:
        segments.unregister_segment_field("test.initial")
    # a field that went away matches nobody instead of everyone
    services.segment_recompute(actor=head_of_sales, segment_id=segment.pk)
    assert members(segment) == set()
