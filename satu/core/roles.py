"""Roles as Django groups (PLT-2). Each app grants its permissions to roles
in its AppConfig.ready(); `sync_roles` (run after migrate) writes them."""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

ADMINISTRATOR = "administrator"
SALES_MANAGER = "sales_manager"
HEAD_OF_SALES = "head_of_sales"
MARKETER = "marketer"
WAREHOUSE = "warehouse"
ACCOUNTANT = "accountant"
DIRECTOR = "director"

ROLES = {
    ADMINISTRATOR: _("Administrator"),
    SALES_MANAGER: _("Sales manager"),
    HEAD_OF_SALES: _("Head of sales"),
    MARKETER: _("Marketer"),
    WAREHOUSE: _("Warehouse keeper"),
    ACCOUNTANT: _("Accountant"),
    DIRECTOR: _("Director (read-only)"),
}

_grants: dict[str, set[str]] = {code: set() for code in ROLES}


def grant(role: str, permissions: list[str]) -> None:
    """Give `app_label.codename` permissions to a role."""
    _grants[role].update(permissions)


def sync_roles(**_kwargs) -> None:
    """Create the role groups and set their permissions (idempotent)."""
    wanted = set().union(*_grants.values())
    by_name = {}
    for perm in Permission.objects.select_related("content_type"):
        key = f"{perm.content_type.app_label}.{perm.codename}"
        if key in wanted:
            by_name[key] = perm
    for code in ROLES:
        group, _created = Group.objects.get_or_create(name=code)
        group.permissions.set([by_name[p] for p in _grants[code] if p in by_name])


def role_label(code: str) -> str:
    return str(ROLES.get(code, code))
