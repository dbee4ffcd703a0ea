"""satu.core.prepared: compiled-once ORM queries and writes (ADR 014)."""

from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from satu.core import prepared as prep
from satu.core.models import AuditEntry, FeatureToggle, NumberCounter, User
from satu.core.prepared import prepared

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(django_user_model):
    alice = django_user_model.objects.create_user("alice-prep")
    bob = django_user_model.objects.create_user("bob-prep")
    ct = ContentType.objects.get_for_model(User)
    made = []
    for i, actor in enumerate([alice, bob, alice, None]):
        made.append(
            AuditEntry.objects.create(
                actor=actor,
                action=f"act{i}",
                content_type=ct,
                object_id=100 + i,
                object_repr=f"thing {i}",
                changes={"n": i},
            )
        )
    return made, alice, bob


_BY_ACTOR = prepared(
    lambda actor_id: (
        AuditEntry.objects.filter(actor_id=actor_id)
        .select_related("actor")
        .order_by("id")
    )
)
_BY_IDS = prepared(lambda ids: AuditEntry.objects.filter(pk__in=ids).order_by("id"))
_VALUES = prepared(
    lambda action: AuditEntry.objects.filter(action=action).values(
        "object_id", "changes"
    )
)
_FLAT = prepared(
    lambda ids: (
        AuditEntry.objects.filter(pk__in=ids)
        .order_by("-id")
        .values_list("object_id", flat=True)
    )
)
_OR_EMPTY = prepared(
    lambda ids, action: AuditEntry.objects.filter(
        Q(pk__in=ids) | Q(action=action)
    ).order_by("id")
)
_ON = prepared(lambda day: AuditEntry.objects.filter(at__date__lte=day).order_by("id"))


def test_models_with_select_related_match_the_orm(entries):
    made, alice, _bob = entries
    got = _BY_ACTOR.all(actor_id=alice.pk)
    want = list(
        AuditEntry.objects.filter(actor_id=alice.pk)
        .select_related("actor")
        .order_by("id")
    )
    assert [e.pk for e in got] == [e.pk for e in want] == [made[0].pk, made[2].pk]
    with CaptureQueriesContext(connection) as ctx:
        assert got[0].actor.username == "alice-prep"  # joined, no query
        assert got[1].changes == {"n": 2}
    assert len(ctx.captured_queries) == 0
    assert got[0]._state.adding is False and got[0]._state.db == "default"


def test_the_same_shape_runs_with_new_values(entries):
    made, alice, bob = entries
    assert [e.pk for e in _BY_ACTOR.all(actor_id=bob.pk)] == [made[1].pk]
    assert [e.pk for e in _BY_ACTOR.all(actor_id=alice.pk)] == [made[0].pk, made[2].pk]
    assert _BY_ACTOR.first(actor_id=bob.pk).pk == made[1].pk
    assert _BY_ACTOR.first(actor_id=999_999) is None


def test_lists_values_and_flat_values_list(entries):
    made, _alice, _bob = entries
    ids = [made[2].pk, made[0].pk, made[2].pk]  # duplicates are dropped
    assert [e.pk for e in _BY_IDS.all(ids=ids)] == [made[0].pk, made[2].pk]
    assert _FLAT.all(ids=[m.pk for m in made]) == [103, 102, 101, 100]
    assert _VALUES.all(action="act1") == [{"object_id": 101, "changes": {"n": 1}}]


def test_an_empty_list_is_its_own_shape(entries):
    made, _alice, _bob = entries
    with CaptureQueriesContext(connection) as ctx:
        assert _BY_IDS.all(ids=[]) == []
    assert len(ctx.captured_queries) == 0  # pk__in=[] matches nothing
    # In an OR the empty branch drops out and the other still matches.
    assert [e.pk for e in _OR_EMPTY.all(ids=[], action="act3")] == [made[3].pk]
    got = _OR_EMPTY.all(ids=[made[0].pk], action="act3")
    assert [e.pk for e in got] == [made[0].pk, made[3].pk]


def test_dates_are_placeholders(entries):
    made, _alice, _bob = entries
    today = timezone.localdate()
    assert len(_ON.all(day=today + timedelta(days=1))) == len(made)
    assert _ON.all(day=date(2000, 1, 1)) == []


def test_fixed_values_are_part_of_the_shape(entries):
    made, alice, _bob = entries
    got = _BY_ACTOR.all(actor_id=None)  # IS NULL, compiled separately
    assert [e.pk for e in got] == [made[3].pk]
    assert [e.pk for e in _BY_ACTOR.all(actor_id=alice.pk)] == [made[0].pk, made[2].pk]


def test_a_parameter_that_does_not_reach_the_sql_is_refused(entries):
    bad = prepared(lambda name: AuditEntry.objects.filter(object_repr__icontains=name))
    with pytest.raises(ImproperlyConfigured, match="do not reach the SQL"):
        bad.all(name="thing")


_LOCKED = prepared(
    lambda pk: AuditEntry.objects.filter(pk=pk).select_for_update(of=("self",))
)


def test_select_for_update_inside_a_transaction(entries):
    made, _alice, _bob = entries
    with transaction.atomic():
        assert _LOCKED.first(pk=made[0].pk).pk == made[0].pk


@pytest.mark.django_db(transaction=True)
def test_select_for_update_outside_a_transaction_is_refused():
    with transaction.atomic():
        _LOCKED.first(pk=1)  # compiled inside a transaction
    with pytest.raises(transaction.TransactionManagementError):
        _LOCKED.first(pk=1)


def test_compiled_once_per_shape_and_evicted_when_full(entries, monkeypatch):
    made, alice, bob = entries
    query = prepared(lambda actor_id: AuditEntry.objects.filter(actor_id=actor_id))
    query.all(actor_id=alice.pk)
    calls = []
    monkeypatch.setattr(
        query,
        "_build",
        lambda **p: (
            calls.append(p) or AuditEntry.objects.filter(actor_id=p["actor_id"])
        ),
    )
    query.all(actor_id=bob.pk)
    assert calls == []  # same shape: no new compilation
    monkeypatch.setattr(prep, "MAX_SHAPES", 2)
    query.all(actor_id=None)
    query.all(actor_id=bob.pk)
    assert len(calls) == 1
    shapes = connections["default"].__dict__[prep._ATTR][query._id]
    assert len(shapes) <= 2


def test_insert_fills_keys_and_auto_fields(django_user_model):
    actor = django_user_model.objects.create_user("carol-prep")
    ct = ContentType.objects.get_for_model(User)
    rows = [
        AuditEntry(
            actor=actor,
            action="bulk",
            content_type=ct,
            object_id=i,
            object_repr=str(i),
            changes={"i": i},
        )
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as ctx:
        prep.insert(rows)
    assert len(ctx.captured_queries) == 1
    assert all(r.pk and not r._state.adding for r in rows)
    stored = {e.pk: e for e in AuditEntry.objects.filter(action="bulk")}
    assert [stored[r.pk].object_id for r in rows] == [0, 1, 2]
    assert stored[rows[2].pk].changes == {"i": 2}
    assert stored[rows[0].pk].at is not None  # auto_now_add ran


def test_update_writes_only_the_named_fields():
    counter = NumberCounter.objects.create(key="prep.k", year=2026, last=1)
    counter.last = 7
    counter.year = 1999  # not named: not written
    with CaptureQueriesContext(connection) as ctx:
        assert prep.update(counter, ["last"]) == 1
    assert len(ctx.captured_queries) == 1
    counter.refresh_from_db()
    assert (counter.last, counter.year) == (7, 2026)
    with pytest.raises(ValueError, match="unknown fields"):
        prep.update(counter, ["nope"])


def test_update_of_a_fresh_insert(django_user_model):
    user = django_user_model.objects.create_user("dave-prep")
    ct = ContentType.objects.get_for_model(User)
    entry = AuditEntry(
        actor=user, action="a", content_type=ct, object_id=1, object_repr="x"
    )
    prep.insert([entry])
    entry.object_repr = "y"
    assert prep.update(entry, ["object_repr"]) == 1
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == "y"


def test_models_with_save_receivers_are_refused():
    # FeatureToggle has post_save receivers (the feature cache).
    with pytest.raises(ImproperlyConfigured, match="signal receivers"):
        prep.insert([FeatureToggle(code="prep-y", enabled=True)])


def test_deferred_inserts_write_once_per_model_at_the_end(django_user_model):
    from satu.core import audit
    from satu.parties.models import Client
    from satu.parties.services import timeline_record

    actor = django_user_model.objects.create_user("deferred")
    client = Client.objects.create(name="Deferred Ltd")
    before = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        with prep.deferred_inserts():
            first = audit.record(actor=actor, subject=client, action="one")
            with prep.deferred_inserts():  # nested: the outer block writes
                audit.record(actor=actor, subject=client, action="two")
            timeline_record(client_id=client.pk, kind="test.deferred", summary="x")
            audit.record(actor=actor, subject=client, action="three")
            assert first.pk is None and AuditEntry.objects.count() == before
            queued = len(ctx.captured_queries)
    inserts = [q["sql"] for q in ctx.captured_queries[queued:]]
    assert len(inserts) == 2 and all(q.startswith("INSERT") for q in inserts)
    assert first.pk is not None
    actions = list(
        AuditEntry.objects.filter(object_id=client.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["one", "two", "three"]  # in the order recorded


def test_deferred_inserts_are_dropped_when_the_block_fails(django_user_model):
    from satu.core import audit
    from satu.parties.models import Client

    actor = django_user_model.objects.create_user("dropped")
    client = Client.objects.create(name="Dropped Ltd")
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), prep.deferred_inserts():
        audit.record(actor=actor, subject=client, action="lost")
        raise RuntimeError("step failed")
    assert AuditEntry.objects.count() == before
    # Outside a block rows are written at once.
    entry = audit.record(actor=actor, subject=client, action="now")
    assert entry.pk is not None and AuditEntry.objects.count() == before + 1
