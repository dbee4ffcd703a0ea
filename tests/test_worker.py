"""The real worker: django-tasks-db's db_worker and `satu worker`."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from satu.core import jobs
from satu.core.models import Job, WorkerHeartbeat
from satu.core.testing.helpers import make_user
from satu.core.worker import Heartbeat

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def counting_job():
    """A job kind whose handler reports progress and returns a result."""
    calls = []

    def handler(job, report):
        calls.append(job.params["n"])
        report(50, "half way")
        return {"message": "counted", "n": job.params["n"] * 2}

    jobs.register_handler("test.count", handler)
    yield calls
    jobs._handlers.pop("test.count", None)


@pytest.mark.django_db(transaction=True)
def test_db_worker_runs_a_queued_job_to_done(settings, counting_job):
    # given a job queued on the database backend
    settings.TASKS = DATABASE_TASKS
    actor = make_user("alice")
    job = jobs.job_start(
        actor=actor, kind="test.count", title="Count", params={"n": 21}
    )
    assert Job.objects.get(pk=job.pk).state == Job.State.QUEUED
    assert counting_job == []

    # when the worker runs the queue once
    call_command(
        "db_worker", batch=True, startup_delay=False, reload=False, verbosity=0
    )

    # then the job ran in the worker and is done with its result
    job.refresh_from_db()
    assert counting_job == [21]
    assert (job.state, job.progress, job.message) == (Job.State.DONE, 100, "counted")
    assert job.result == {"message": "counted", "n": 42}
    assert job.started_at is not None and job.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_satu_worker_batch_runs_jobs_and_leaves_no_heartbeat(settings, counting_job):
    settings.TASKS = DATABASE_TASKS
    actor = make_user("alice")
    first = jobs.job_start(actor=actor, kind="test.count", title="One", params={"n": 1})
    second = jobs.job_start(
        actor=actor, kind="test.count", title="Two", params={"n": 2}
    )

    call_command("worker", batch=True, verbosity=0)

    assert sorted(counting_job) == [1, 2]
    states = Job.objects.filter(pk__in=[first.pk, second.pk]).values_list(
        "state", "progress"
    )
    assert list(states) == [(Job.State.DONE, 100), (Job.State.DONE, 100)]
    assert WorkerHeartbeat.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_heartbeat_row_lives_while_the_worker_runs():
    heartbeat = Heartbeat("worker-test-1", interval=0.05)
    before = timezone.now()

    heartbeat.start()
    try:
        row = WorkerHeartbeat.objects.get(worker_id="worker-test-1")
        assert row.last_seen >= before
        first_seen = row.last_seen
        # The thread refreshes the row on its own.
        for _ in range(100):
            row.refresh_from_db()
            if row.last_seen > first_seen:
                break
            heartbeat._stopped.wait(0.02)
        assert row.last_seen > first_seen
    finally:
        heartbeat.stop()

    assert not WorkerHeartbeat.objects.filter(worker_id="worker-test-1").exists()


@pytest.mark.django_db
def test_heartbeat_start_forgets_workers_dead_for_a_day():
    old = timezone.now() - timezone.timedelta(days=2)
    WorkerHeartbeat.objects.create(
        worker_id="dead", hostname="h", pid=1, started_at=old, last_seen=old
    )
    heartbeat = Heartbeat("alive", interval=60)

    heartbeat.start()
    heartbeat.stop()

    assert not WorkerHeartbeat.objects.filter(worker_id="dead").exists()
