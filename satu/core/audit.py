"""Audit trail: who changed what and when (old → new values)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from satu.core import prepared
from satu.core.models import AuditEntry

# Human labels of audit actions; domains add theirs with register_action.
_action_labels = {
    "created": _("Created"),
    "updated": _("Updated"),
    "archived": _("Archived"),
    "restored": _("Restored"),
    "merged": _("Merged another client in"),
    "merged_into": _("Merged into another client"),
    "switched_on": _("Switched on"),
    "switched_off": _("Switched off"),
    "revoked": _("Revoked"),
    "attachment_added": _("File attached"),
    "counterparty_linked": _("Counterparty linked"),
    "counterparty_link_ended": _("Counterparty link ended"),
    "contact_linked": _("Contact linked"),
    "bank_account_added": _("Bank account added"),
    "reset": _("Reset to the default"),
}


def register_action(code: str, label) -> None:
    _action_labels[code] = label


def action_label(code: str):
    return _action_labels.get(code) or code.replace("_", " ").capitalize()


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict:
    """Values of `fields` on `instance`, for comparing before and after a change."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every field whose value changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(*, actor, subject: models.Model, action: str, changes: dict | None = None):
    """Append an audit entry for `subject`. Call inside the writing transaction
    (inside `prepared.deferred_inserts()` it is written when that block ends)."""
    entry = AuditEntry(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        object_repr=str(subject)[:255],
        changes=_plain(changes or {}),
    )
    prepared.insert_later(entry)
    return entry


def entries_for(subject: models.Model):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    ).select_related("actor")


def audit_object_types() -> list[ContentType]:
    """Content types of Satu's own apps, for filtering the audit trail."""
    labels = [c.label for c in apps.get_app_configs() if c.name.startswith("satu.")]
    return list(
        ContentType.objects.filter(app_label__in=labels).order_by("app_label", "model")
    )


def audit_entry_list(
    *,
    actor_id: int | None = None,
    action: str = "",
    content_type_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
):
    """Audit entries, newest first, filtered; dates are whole days in the
    current time zone (`date_to` inclusive)."""
    qs = AuditEntry.objects.select_related("actor", "content_type")
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action=action)
    if content_type_id:
        qs = qs.filter(content_type_id=content_type_id)
    zone = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=zone))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        qs = qs.filter(at__lt=end)
    return qs.order_by("-at", "-id")
