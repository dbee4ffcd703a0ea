"""The scheduler: each due time of a cron schedule is enqueued once."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django_tasks import task

from satu.core import schedules
from satu.core.models import ScheduleRun

JAKARTA = ZoneInfo("Asia/Jakarta")
CALLS: list[str] = []


@task()
def record_call() -> None:
    CALLS.append("called")


@pytest.fixture
def hourly(settings):
    settings.TIME_ZONE = "Asia/Jakarta"
    CALLS.clear()
    saved = dict(schedules._schedules)
    schedules._schedules.clear()  # only this schedule, not the project's
    schedules.register_schedule("test.hourly", "0 * * * *", record_call, "Hourly")
    yield
    schedules._schedules.clear()
    schedules._schedules.update(saved)


def at(hour, minute, second=0):
    return datetime(2026, 3, 2, hour, minute, second, tzinfo=JAKARTA)


def runs():
    return list(
        ScheduleRun.objects.filter(code="test.hourly")
        .order_by("due_at")
        .values_list("due_at", flat=True)
    )


@pytest.mark.django_db
def test_tick_enqueues_each_due_time_once(hourly):
    # given the 10:00 slot is due
    assert "test.hourly" in schedules.tick(at(10, 0, 5))
    # when the scheduler ticks again in the same hour
    assert "test.hourly" not in schedules.tick(at(10, 0, 25))
    assert "test.hourly" not in schedules.tick(at(10, 59, 59))
    # then the task ran once, for 10:00
    assert CALLS == ["called"]
    assert runs() == [at(10, 0)]
    # and the next hour is due again
    assert "test.hourly" in schedules.tick(at(11, 0))
    assert CALLS == ["called", "called"]
    assert runs() == [at(10, 0), at(11, 0)]


@pytest.mark.django_db
def test_a_worker_that_was_down_enqueues_only_the_latest_missed_slot(hourly):
    schedules.tick(at(7, 30))
    schedules.tick(at(10, 15))
    assert CALLS == ["called", "called"]
    assert runs() == [at(7, 0), at(10, 0)]


@pytest.mark.django_db
def test_a_claimed_slot_is_not_enqueued_by_another_worker(hourly):
    # another worker claimed 10:00 already
    ScheduleRun.objects.create(code="test.hourly", due_at=at(10, 0), worker_id="w2")
    assert schedules.tick(at(10, 1), worker_id="w1") == []
    assert CALLS == []


@pytest.mark.django_db
def test_status_shows_last_and_next_run(hourly):
    schedules.tick(at(10, 5))
    status = {row["code"]: row for row in schedules.schedule_status(at(10, 20))}
    row = status["test.hourly"]
    assert (row["label"], row["cron"]) == ("Hourly", "0 * * * *")
    assert row["last_run"] == at(10, 0)
    assert row["next_run"] == at(11, 0)


def test_invalid_cron_is_refused():
    with pytest.raises(ValueError, match="invalid cron"):
        schedules.register_schedule("test.bad", "61 * * * *", record_call)
    assert "test.bad" not in {s.code for s in schedules.registered()}


def test_the_project_registers_its_schedules():
    codes = {s.code: s.cron for s in schedules.registered()}
    assert codes["crm.task_reminders"] == "* * * * *"
    assert codes["parties.segments_recompute"] == "0 * * * *"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers: PostgreSQL (the in-memory SQLite locks tables)",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_ticking_at_once_enqueue_once(hourly):
    barrier = threading.Barrier(2)
    results = []

    def worker(name):
        try:
            barrier.wait()
            results.append(schedules.tick(at(10, 0, 1), worker_id=name))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(len(r) for r in results) == [0, 1]
    assert CALLS == ["called"]
    assert runs() == [at(10, 0)]


@pytest.mark.django_db(transaction=True)
def test_scheduler_thread_enqueues_on_start(hourly):
    scheduler = schedules.Scheduler("w1", interval=0.05)
    scheduler.start()
    scheduler.stop()
    assert CALLS == ["called"]
    assert ScheduleRun.objects.get(code="test.hourly").worker_id == "w1"
