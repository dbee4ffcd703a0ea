"""`satu remind`: send due task reminders by e-mail (for cron)."""

from django.core.management.base import BaseCommand

from satu.crm.tasks import send_due_reminders


class Command(BaseCommand):
    help = (
        "E-mail task reminders that are due. By default the job is queued for "
        "the worker; --now runs it in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", action="store_true", help="Run here instead of queueing."
        )

    def handle(self, *, now=False, **_options):
        if now:
            sent = send_due_reminders.call()
            self.stdout.write(f"{sent} reminder(s) sent.")
            return
        result = send_due_reminders.enqueue()
        self.stdout.write(f"Queued reminder job {result.id}.")
