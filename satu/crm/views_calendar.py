"""The calendar's day view and the interaction edit screen."""

from datetime import date, timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from satu.core.errors import DomainError
from satu.core.web import (
    apply_domain_error,
    fetch,
    raise_http,
    require_feature,
    require_perm,
)
from satu.crm import queries, services
from satu.crm.forms import InteractionEditForm


def _iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def calendar_day(request):
    """`/tasks/calendar/?view=day&date=YYYY-MM-DD`: the actor's tasks and
    planned interactions of one day, hour by hour (today for a bad date)."""
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    shown = queries.calendar_day(actor=request.user, day=day)
    hours: dict[int, list] = {}
    for item in shown["items"]:
        hours.setdefault(timezone.localtime(item["at"]).hour, []).append(item)
    first = min([8, *hours]) if hours else 8
    last = max([18, *hours]) if hours else 18
    context = {
        "day": day,
        "hours": [(h, hours.get(h, [])) for h in range(first, last + 1)],
        "count": len(shown["items"]),
        "previous_day": (day - timedelta(days=1)).isoformat(),
        "next_day": (day + timedelta(days=1)).isoformat(),
        "week": _iso_week(day),
        "today": timezone.localdate(),
    }
    return render(request, "crm/calendar_day.html", context)


def _initial(interaction) -> dict:
    def local(value):
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else None

    seconds = interaction.duration_seconds
    return {
        "title": interaction.title,
        "direction": interaction.direction,
        "planned_at": local(interaction.planned_at),
        "start_at": local(interaction.start_at),
        "end_at": local(interaction.end_at),
        "place": interaction.place,
        "duration_minutes": seconds // 60 if seconds is not None else None,
        "result": interaction.result,
        "contacts": [c.pk for c in interaction.contacts.all()],
        "channel": interaction.channel_id,
        "reason": interaction.reason_id,
        "notes": interaction.notes,
        "version": interaction.version,
    }


@require_http_methods(["GET", "POST"])
def interaction_edit(request, pk: int):
    """Change an interaction's subject, times, place, result, people,
    attribution and notes (not its client, kind, thread or state), through
    `services.interaction_update`; a stale form answers 409 with the
    service's message."""
    require_feature(request, "crm")
    require_perm(request, "crm.change_interaction")
    interaction = fetch(queries.interaction_get, actor=request.user, interaction_id=pk)
    form = InteractionEditForm(
        request.POST or None, client=interaction.client, initial=_initial(interaction)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.interaction_update(
                    actor=request.user,
                    interaction_id=interaction.pk,
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(
                    form,
                    exc,
                    {"channel_id": "channel", "reason_id": "reason"},
                )
                status = exc.http_status
            else:
                messages.success(request, _("Interaction saved."))
                return redirect("interaction_detail", pk=interaction.pk)
        else:
            status = 422
    context = {"form": form, "interaction": interaction}
    return render(request, "crm/interaction_edit.html", context, status=status)
