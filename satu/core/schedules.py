"""Recurring jobs: a registry of cron schedules and the loop that enqueues them.

A domain registers `register_schedule(code, cron, task)` in its
`AppConfig.ready()`; `task` is a django-tasks task without arguments. Every
`satu worker` (and so `satu run`) runs a `Scheduler` thread that calls
`tick()` every few seconds. `tick` finds, per schedule, the latest due time
not after now (cron in the server's time zone, `TIME_ZONE`) and claims it by
inserting a `ScheduleRun` row with a unique (code, due_at); the worker that
wins the insert enqueues the task in the same transaction. So each due time
is enqueued once however many workers run, and a worker that was down for a
while enqueues only the latest missed slot, not the backlog.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connections,
    transaction,
)
from django.db.models import Max
from django.utils import timezone

from satu.core.models import ScheduleRun

logger = logging.getLogger(__name__)

TICK_SECONDS = 20.0
# Claimed slots older than this are deleted (the newest per code is kept).
KEEP_RUNS = timedelta(days=30)


@dataclass(frozen=True)
class Schedule:
    code: str
    cron: str
    task: object  # a django_tasks Task
    label: str = ""

    def due_at(self, now: datetime) -> datetime:
        """The latest cron time not after `now` (minute precision)."""
        local = timezone.localtime(now).replace(second=0, microsecond=0)
        return croniter(self.cron, local + timedelta(minutes=1)).get_prev(datetime)

    def next_at(self, now: datetime) -> datetime:
        local = timezone.localtime(now).replace(second=0, microsecond=0)
        return croniter(self.cron, local).get_next(datetime)


_schedules: dict[str, Schedule] = {}


def register_schedule(code: str, cron: str, task, label: str = "") -> Schedule:
    """Run `task` (a django-tasks task taking no arguments) at each time of the
    five-field `cron` expression. Registering a code again replaces it."""
    if not croniter.is_valid(cron):
        raise ValueError(f"invalid cron expression {cron!r} for schedule {code!r}")
    if len(code) > 64:
        raise ValueError(f"schedule code {code!r} is longer than 64 characters")
    schedule = Schedule(code=code, cron=cron, task=task, label=label or code)
    _schedules[code] = schedule
    return schedule


def unregister_schedule(code: str) -> None:
    _schedules.pop(code, None)


def registered() -> list[Schedule]:
    return sorted(_schedules.values(), key=lambda s: s.code)


def tick(now: datetime | None = None, *, worker_id: str = "") -> list[str]:
    """Enqueue every schedule whose latest due time is not claimed yet.
    Returns the codes enqueued by this call. Safe to run concurrently."""
    now = now or timezone.now()
    enqueued = []
    for schedule in registered():
        due = schedule.due_at(now)
        if ScheduleRun.objects.filter(code=schedule.code, due_at=due).exists():
            continue
        try:
            with transaction.atomic():
                run = ScheduleRun.objects.create(
                    code=schedule.code, due_at=due, enqueued_at=now, worker_id=worker_id
                )
                result = schedule.task.enqueue()
                run.task_result_id = str(getattr(result, "id", ""))[:64]
                run.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # another worker claimed this due time first
        logger.info(
            "schedule enqueued", extra={"schedule": schedule.code, "due_at": due}
        )
        enqueued.append(schedule.code)
    if enqueued:
        _forget_old_runs(now)
    return enqueued


def _forget_old_runs(now: datetime) -> None:
    latest = ScheduleRun.objects.values("code").annotate(last=Max("due_at"))
    keep = [row["last"] for row in latest]
    ScheduleRun.objects.filter(due_at__lt=now - KEEP_RUNS).exclude(
        due_at__in=keep
    ).delete()


def schedule_status(now: datetime | None = None) -> list[dict]:
    """Each registered schedule with its last claimed and next due time (one
    query), for the settings screen."""
    now = now or timezone.now()
    last = dict(
        ScheduleRun.objects.values("code")
        .annotate(last=Max("due_at"))
        .values_list("code", "last")
    )
    return [
        {
            "code": s.code,
            "label": str(s.label),
            "cron": s.cron,
            "last_run": last.get(s.code),
            "next_run": s.next_at(now),
        }
        for s in registered()
    ]


class Scheduler:
    """Calls `tick()` every `interval` seconds from a daemon thread."""

    def __init__(self, worker_id: str = "", interval: float = TICK_SECONDS):
        self.worker_id = worker_id
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="satu-scheduler", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        try:
            while True:
                close_old_connections()
                try:
                    tick(worker_id=self.worker_id)
                except DatabaseError:
                    # Locked or restarting database: retry at the next tick; a
                    # missed slot is picked up then (the latest due time).
                    logger.warning("scheduler tick failed", exc_info=True)
                    connections.close_all()
                if self._stopped.wait(self.interval):
                    break
        finally:
            connections.close_all()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)
