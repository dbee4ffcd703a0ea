"""What the CRM adds to segment rules (`satu.parties.segments` registry) and
to the scheduler. Called once from `CrmConfig.ready()`."""

from datetime import timedelta

from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from satu.core.schedules import register_schedule
from satu.crm.models import Deal, Interaction
from satu.parties.segments import register_segment_field


def _has_open_deal(qs, op, value):
    open_deals = Deal.objects.filter(client=OuterRef("pk"), status=Deal.Status.IN_WORK)
    return qs.filter(Exists(open_deals) if op == "is_true" else ~Exists(open_deals))


def _won_in_days(qs, op, value):
    since = timezone.now() - timedelta(days=value)
    won = Deal.objects.filter(
        client=OuterRef("pk"), status=Deal.Status.WON, closed_at__gte=since
    )
    return qs.filter(Exists(won))


def _last_interaction(qs, op, value):
    """The newest done interaction: when it happened (done, else started,
    else recorded)."""
    last = (
        Interaction.objects.filter(client=OuterRef("pk"), state=Interaction.State.DONE)
        .annotate(when=Coalesce("done_at", "start_at", "created_at"))
        .values("client")
        .annotate(last=Max("when"))
        .values("last")
    )
    qs = qs.annotate(_last_interaction=Subquery(last[:1]))
    if op == "empty":
        return qs.filter(_last_interaction__isnull=True)
    if op == "before":
        return qs.filter(_last_interaction__date__lt=value)
    if op == "after":
        return qs.filter(_last_interaction__date__gt=value)
    since = timezone.now() - timedelta(days=value)
    if op == "last_days":
        return qs.filter(_last_interaction__gte=since)
    # older_days: long silent, including never contacted
    return qs.filter(Q(_last_interaction__lt=since) | Q(_last_interaction__isnull=True))


def register() -> None:
    from satu.crm import tasks

    register_segment_field(
        "crm.has_open_deal",
        _("Has an open deal"),
        "bool",
        ("is_true", "is_false"),
        _has_open_deal,
    )
    register_segment_field(
        "crm.won_deal_days",
        _("Won a deal"),
        "number",
        ("last_days",),
        _won_in_days,
    )
    register_segment_field(
        "crm.last_interaction",
        _("Last interaction"),
        "date",
        ("before", "after", "last_days", "older_days", "empty"),
        _last_interaction,
    )
    register_schedule(
        "crm.task_reminders",
        "* * * * *",
        tasks.send_due_reminders,
        _("Task reminders by e-mail"),
    )
