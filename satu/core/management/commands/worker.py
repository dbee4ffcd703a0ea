"""`satu worker`: django-tasks-db's db_worker plus a heartbeat for /healthz and
the scheduler thread that enqueues registered recurring tasks."""

import logging

from django.core.management import call_command
from django.core.management.base import BaseCommand

from satu.core.schedules import Scheduler
from satu.core.worker import Heartbeat, new_worker_id

logger = logging.getLogger("satu.worker")


class Command(BaseCommand):
    help = "Run the background worker (jobs, imports, mail) until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between polls when idle (default 1).",
        )
        parser.add_argument(
            "--queue-name",
            default="default",
            help="Queues to process, comma separated; '*' for all.",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run the queued tasks, then exit."
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not enqueue scheduled tasks (always off with --batch).",
        )

    def handle(
        self,
        *,
        interval,
        queue_name,
        batch,
        max_tasks,
        verbosity,
        no_scheduler=False,
        **_options,
    ):
        worker_id = new_worker_id()
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        scheduler = None
        if not batch and not no_scheduler:
            scheduler = Scheduler(worker_id)
            scheduler.start()
        logger.info("worker started", extra={"worker_id": worker_id})
        options = {
            "interval": interval,
            "queue_name": queue_name,
            "batch": batch,
            "worker_id": worker_id,
            "reload": False,
            "verbosity": verbosity,
        }
        if max_tasks:
            options["max_tasks"] = max_tasks
        try:
            call_command("db_worker", **options)
        finally:
            # Also on SIGTERM/SIGINT: db_worker exits through SystemExit.
            if scheduler is not None:
                scheduler.stop()
            heartbeat.stop()
            logger.info("worker stopped", extra={"worker_id": worker_id})
