"""Background jobs of the CRM domain (django-tasks)."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from satu.core import features
from satu.crm import queries, services


def _reminder_text(task_obj) -> str:
    lines = [
        _("Reminder: %(title)s") % {"title": task_obj.title},
        _("Due: %(when)s")
        % {"when": timezone.localtime(task_obj.due_at).strftime("%Y-%m-%d %H:%M")},
    ]
    if task_obj.client_id:
        lines.append(_("Client: %(name)s") % {"name": task_obj.client.name})
    if task_obj.description:
        lines += ["", task_obj.description]
    return "\n".join(lines)


@task()
def send_due_reminders() -> int:
    """E-mail each responsible user once per task whose reminder time has
    passed; returns how many e-mails were sent. A task is flagged right after
    its e-mail, so a failure later in the run does not repeat earlier mails."""
    if not features.is_enabled("crm"):
        return 0
    sent = 0
    for task_obj in queries.tasks_reminder_due():
        send_mail(
            subject=_("Reminder: %(title)s") % {"title": task_obj.title},
            message=_reminder_text(task_obj),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[task_obj.responsible.email],
        )
        sent += services.task_mark_reminded(task_ids=[task_obj.pk])
    return sent
