import pytest

from satu.core import users
from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry, User
from satu.core.testing.helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(db):
    return make_user("boss", role="administrator")


def test_administrator_adds_an_employee_with_roles(administrator):
    user = users.user_create(
        actor=administrator,
        username="sari",
        password="Kuat-Sandi-2026",
        first_name="Sari",
        email="Sari@Satu.Test",
        roles=["sales_manager"],
    )

    assert user.check_password("Kuat-Sandi-2026")
    assert user.email == "Sari@satu.test"
    assert [g.name for g in user.groups.all()] == ["sales_manager"]
    assert user.has_perm("parties.add_client")
    assert not user.has_perm("parties.view_all_clients")
    assert AuditEntry.objects.filter(object_id=user.pk, action="created").exists()


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"username": "boss"}, "username"),
        ({"username": "has space"}, "username"),
        ({"password": "123"}, "password"),
        ({"email": "nope"}, "email"),
        ({"roles": ["king"]}, "roles"),
    ],
)
def test_bad_input_is_refused_and_nothing_created(administrator, fields, error_field):
    args = {"username": "sari", "password": "Kuat-Sandi-2026", **fields}
    count = User.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        users.user_create(actor=administrator, **args)
    assert error_field in excinfo.value.fields
    assert User.objects.count() == count


def test_roles_change_and_deactivation(administrator, manager):
    users.user_update(
        actor=administrator,
        user_id=manager.pk,
        first_name="M",
        last_name="",
        email="",
        roles=["head_of_sales"],
        is_active=False,
    )
    manager = User.objects.get(pk=manager.pk)
    assert not manager.is_active
    assert manager.has_perm("parties.view_all_clients") is False  # inactive: no perms
    entry = AuditEntry.objects.get(object_id=manager.pk, action="updated")
    assert entry.changes["roles"] == [["sales_manager"], ["head_of_sales"]]


def test_administrator_cannot_lock_himself_out(administrator):
    with pytest.raises(ValidationFailed) as excinfo:
        users.user_update(
            actor=administrator,
            user_id=administrator.pk,
            first_name="",
            last_name="",
            email="",
            roles=["administrator"],
            is_active=False,
        )
    assert "is_active" in excinfo.value.fields


def test_only_administrators_manage_users(manager):
    with pytest.raises(PermissionDenied):
        users.user_create(actor=manager, username="x", password="Kuat-Sandi-2026")


def test_users_screen(client, administrator, manager, django_assert_max_num_queries):
    client.force_login(administrator)
    with django_assert_max_num_queries(12):
        response = client.get("/settings/users/")
    assert response.status_code == 200
    assert "manager" in response.content.decode()

    response = client.post(
        "/settings/users/new/",
        {
            "username": "dewi",
            "password": "Kuat-Sandi-2026",
            "roles": ["marketer"],
            "first_name": "Dewi",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="dewi").groups.get().name == "marketer"

    response = client.post("/settings/users/new/", {"username": "x", "password": "1"})
    assert response.status_code == 422
    assert not User.objects.filter(username="x").exists()

    response = client.post(
        f"/settings/users/{manager.pk}/",
        {
            "first_name": "Man",
            "roles": ["sales_manager"],
            "is_active": "on",
            "password": "Baru-Sandi-2026",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=manager.pk).check_password("Baru-Sandi-2026")

    client.force_login(User.objects.get(pk=manager.pk))
    assert client.get("/settings/users/").status_code == 403
