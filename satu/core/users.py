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


# ---------------------------------------------------------------- administration

USER_FIELDS = ["first_name", "last_name", "email", "is_active", "language", "time_zone"]


def _role_groups(role_codes: list[str]):
    from django.contrib.auth.models import Group

    from satu.core import roles

    unknown = [r for r in role_codes if r not in roles.ROLES]
    if unknown:
        raise ValidationFailed(fields={"roles": [_("Unknown role.")]})
    roles.sync_roles()
    return list(Group.objects.filter(name__in=role_codes))


def _check_password(password: str, user: User, errors: dict) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)


def _require(actor, perm: str) -> None:
    from satu.core.errors import PermissionDenied

    if not actor.has_perm(perm):
        raise PermissionDenied()


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    roles: list[str] | None = None,
    language: str = "en",
    time_zone: str = "Asia/Jakarta",
) -> User:
    """Add an employee who can log in, with roles (Django groups).

    Needs core.add_user. Raises ValidationFailed for a taken or malformed
    username, a weak password, a bad email, an unknown role, language or zone.
    """
    from django.contrib.auth.validators import UnicodeUsernameValidator
    from django.core.exceptions import ValidationError

    from satu.core.identifiers import normalize_email

    _require(actor, "core.add_user")
    errors: dict[str, list] = {}
    username = (username or "").strip()
    try:
        if not username or len(username) > 150:
            raise ValidationError("")
        UnicodeUsernameValidator()(username)
    except ValidationError:
        errors["username"] = [
            _("Use up to 150 letters, digits and @/./+/-/_ characters.")
        ]
    else:
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = [_("This username is taken.")]
    if email:
        try:
            email = normalize_email(email)
        except ValueError as exc:
            errors["email"] = [str(exc)]
    for key, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value or "") > 150:
            errors[key] = [_("At most %(n)d characters.") % {"n": 150}]
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose one of the offered languages.")]
    if time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = [_("Choose a time zone from the list.")]
    candidate = User(
        username=username, first_name=first_name, last_name=last_name, email=email
    )
    _check_password(password or "", candidate, errors)
    try:
        groups = _role_groups(roles or [])
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        language=language,
        time_zone=time_zone,
    )
    user.groups.set(groups)
    audit.record(
        actor=actor,
        subject=user,
        action="created",
        changes={"roles": [None, sorted(roles or [])]},
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor,
    user_id: int,
    first_name: str,
    last_name: str,
    email: str,
    roles: list[str],
    is_active: bool,
) -> User:
    """Change an employee's name, email, roles or activity. Needs core.change_user.

    An administrator cannot deactivate himself (the installation would lose
    its last way in). Deactivated users cannot log in and their tokens stop.
    """
    from satu.core.errors import NotFound
    from satu.core.identifiers import normalize_email

    _require(actor, "core.change_user")
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("User not found."))
    errors: dict[str, list] = {}
    if email:
        try:
            email = normalize_email(email)
        except ValueError as exc:
            errors["email"] = [str(exc)]
    if user.pk == actor.pk and not is_active:
        errors["is_active"] = [_("You cannot deactivate yourself.")]
    groups = []
    try:
        groups = _role_groups(roles)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = ["first_name", "last_name", "email", "is_active"]
    before = audit.snapshot(user, tracked)
    before["roles"] = sorted(user.groups.values_list("name", flat=True))
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.email, user.is_active = email, is_active
    user.save(update_fields=tracked)
    user.groups.set(groups)
    after = audit.snapshot(user, tracked)
    after["roles"] = sorted(r for r in roles)
    changes = audit.diff(before, after)
    if changes:
        audit.record(actor=actor, subject=user, action="updated", changes=changes)
    return user


@transaction.atomic
def user_password_set(*, actor, user_id: int, password: str) -> None:
    """Set a new password for an employee (needs core.change_user)."""
    from satu.core.errors import NotFound

    _require(actor, "core.change_user")
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("User not found."))
    errors: dict[str, list] = {}
    _check_password(password or "", user, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(actor=actor, subject=user, action="password_set")


def user_list(*, search: str = "", role: str = "", active: bool | None = None):
    """Employees with their roles prefetched, for the administration screen."""
    from django.db.models import Q

    qs = User.objects.prefetch_related("groups").order_by("username")
    if search:
        qs = qs.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
        )
    if role:
        qs = qs.filter(groups__name=role)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs
