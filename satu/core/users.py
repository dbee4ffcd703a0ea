"""A user's own preferences (language, time zone)."""

import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from satu.core import audit
from satu.core.errors import ValidationFailed
from satu.core.models import User

# Shown first in the time zone picker: where Satu's users mostly work.
COMMON_TIME_ZONES = [
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Manila",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Australia/Sydney",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
]


@lru_cache(maxsize=1)
def time_zones() -> tuple[list[str], list[str]]:
    """(common zones, all other zones sorted) for pickers."""
    available = zoneinfo.available_timezones()
    common = [tz for tz in COMMON_TIME_ZONES if tz in available]
    rest = sorted(tz for tz in available if tz not in common)
    return common, rest


@transaction.atomic
def user_preferences_update(*, actor, language: str, time_zone: str) -> User:
    """Set the actor's own language and time zone; audited.

    Raises ValidationFailed (fields `language`, `time_zone`) for unknown values.
    """
    errors = {}
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose one of the offered languages.")]
    if time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = [_("Choose a time zone from the list.")]
    if errors:
        raise ValidationFailed(fields=errors)
    user = User.objects.select_for_update().get(pk=actor.pk)
    before = audit.snapshot(user, ["language", "time_zone"])
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    changes = audit.diff(before, audit.snapshot(user, ["language", "time_zone"]))
    if changes:
        audit.record(
            actor=actor, subject=user, action="preferences_updated", changes=changes
        )
    actor.language, actor.time_zone = language, time_zone
    return user


def user_choices() -> list[User]:
    """Every user, for pickers and filters (active ones first)."""
    return list(
        User.objects.order_by("-is_active", "first_name", "last_name", "username")
    )
