"""Worker heartbeat: how /healthz knows that a `satu worker` is alive.

A running worker refreshes one WorkerHeartbeat row every HEARTBEAT_SECONDS
from a background thread and deletes it when it stops. A worker counts as
alive while its row is younger than STALE_AFTER.
"""

import logging
import os
import secrets
import socket
import threading
from datetime import timedelta

from django.db import DatabaseError, close_old_connections, connections
from django.db.models import Max
from django.utils import timezone

from satu.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
STALE_AFTER = timedelta(seconds=60)
# Rows of workers that died without cleaning up are dropped after this.
FORGET_AFTER = timedelta(days=1)


def new_worker_id() -> str:
    """Unique across the pool and at most 64 characters (db_worker's limit)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


def worker_status(now=None) -> dict:
    """{"ok": bool, "last_seen": datetime | None, "alive": int} from the heartbeats."""
    now = now or timezone.now()
    since = now - STALE_AFTER
    rows = WorkerHeartbeat.objects.aggregate(last_seen=Max("last_seen"))
    alive = WorkerHeartbeat.objects.filter(last_seen__gte=since).count()
    last_seen = rows["last_seen"]
    return {"ok": alive > 0, "last_seen": last_seen, "alive": alive}


class Heartbeat:
    """Keeps this worker's heartbeat row fresh until `stop()`."""

    def __init__(self, worker_id: str, interval: float = HEARTBEAT_SECONDS):
        self.worker_id = worker_id
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="satu-heartbeat", daemon=True
        )

    def beat(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "last_seen": now,
            },
            create_defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": now,
                "last_seen": now,
            },
        )

    def start(self) -> None:
        forgotten = timezone.now() - FORGET_AFTER
        WorkerHeartbeat.objects.filter(last_seen__lt=forgotten).delete()
        self.beat()
        self._thread.start()

    def _loop(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                close_old_connections()
                try:
                    self.beat()
                except DatabaseError:
                    # The database may be briefly locked or restarting: drop this
                    # thread's connection, retry at the next beat; /healthz shows
                    # the gap meanwhile.
                    logger.warning("worker heartbeat failed", exc_info=True)
                    connections.close_all()
        finally:
            connections.close_all()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError:
            logger.warning("could not remove the worker heartbeat", exc_info=True)
