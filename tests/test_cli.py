"""The `satu` command: token creation and the demo data guard."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from satu.cli import main
from satu.core.models import ApiToken, SystemFlag, User
from satu.core.testing.helpers import make_user
from satu.parties.models import Client
from satu.parties.tests.factories import ClientFactory


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_satu_without_arguments_prints_its_commands(capsys):
    assert main([]) == 0

    usage = capsys.readouterr().out
    assert usage.startswith("usage: satu COMMAND [options]")
    for command in (
        "migrate",
        "run",
        "serve",
        "worker",
        "demo",
        "token create USERNAME",
        "backup FILE",
        "restore FILE",
    ):
        assert command in usage


@pytest.mark.django_db
def test_token_create_prints_a_token_that_authenticates_the_user(client):
    alice = make_user("alice")

    raw = run("token", "create", "alice", "--name", "ERP link").strip()

    assert raw.startswith("satu_")
    token = ApiToken.objects.get(user=alice)
    assert (token.name, token.prefix) == ("ERP link", raw[:12])
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


@pytest.mark.django_db
def test_token_create_for_an_unknown_user_fails_and_creates_nothing():
    make_user("alice")

    with pytest.raises(CommandError, match="There is no user “bob”"):
        call_command("token", "create", "bob")

    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_demo_refuses_a_database_with_clients_that_are_not_demo_data():
    owner = make_user("owner")
    ClientFactory(name="Real customer", owner=owner)

    with pytest.raises(CommandError, match="holds data that is not demo data"):
        call_command("demo", clients=3, stdout=StringIO())

    assert list(User.objects.values_list("username", flat=True)) == ["owner"]
    assert list(Client.objects.values_list("name", flat=True)) == ["Real customer"]
    assert not SystemFlag.objects.exists()


@pytest.mark.django_db
def test_demo_refuses_a_database_with_real_users():
    make_user("boss", superuser=True)

    with pytest.raises(CommandError, match="not demo data"):
        call_command("demo", clients=3, stdout=StringIO())

    assert User.objects.count() == 1
    assert not SystemFlag.objects.exists()


@pytest.mark.django_db
def test_demo_if_empty_skips_a_database_that_has_users():
    make_user("boss", superuser=True)

    output = run("demo", "--if-empty", "--clients", "3")

    assert output == "The database already has users: demo data skipped.\n"
    assert User.objects.count() == 1
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_demo_if_empty_loads_an_empty_database_and_then_skips():
    output = run("demo", "--if-empty", "--clients", "12")

    assert "Demo data loaded in" in output
    assert "51 users, 12 clients" in output
    assert "  admin / admin  (superuser)" in output
    assert "  sales / demo  (sales_manager)" in output
    assert Client.objects.count() == 12
    assert SystemFlag.objects.get(key="demo").value["clients"] == 12

    again = run("demo", "--if-empty", "--clients", "12")

    assert again == "The database already has users: demo data skipped.\n"
    assert Client.objects.count() == 12


@pytest.mark.django_db
def test_demo_twice_says_it_is_already_loaded():
    run("demo", "--clients", "2")

    with pytest.raises(CommandError, match="already loaded"):
        call_command("demo", clients=2, stdout=StringIO())

    assert Client.objects.count() == 2


def test_run_refuses_a_port_that_is_taken():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=f"Port {port} on 127.0.0.1 is already"):
            call_command("run", port=port)
