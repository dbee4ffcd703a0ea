from django.contrib.auth.models import Group

from satu.core import roles
from satu.core.models import User


def make_user(
    username: str,
    *,
    role: str | None = None,
    superuser: bool = False,
    password: str = "pass-1234-word",
    **extra,
) -> User:
    user = User.objects.create_user(
        username=username,
        password=password,
        email=f"{username}@satu.test",
        first_name=username.title(),
        is_superuser=superuser,
        is_staff=superuser,
        **extra,
    )
    if role:
        roles.sync_roles()
        user.groups.add(Group.objects.get(name=role))
    return user
