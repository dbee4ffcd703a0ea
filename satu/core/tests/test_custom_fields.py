import pytest

from satu.core import custom_fields
from satu.core.errors import ValidationFailed
from satu.core.models import CustomField
from satu.parties.models import Client
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def define(actor, code, field_type, **extra):
    return custom_fields.custom_field_create(
        actor=actor,
        object_type="parties.client",
        code=code,
        label=code.title(),
        field_type=field_type,
        **extra,
    )


def test_values_are_stored_typed(admin_user):
    define(admin_user, "since", "date")
    define(admin_user, "rating", "number")
    define(admin_user, "vip", "bool")
    define(admin_user, "tier", "choice", choices=["A", "B"])
    define(admin_user, "motto", "text")

    cleaned = custom_fields.clean_values(
        "parties.client",
        {
            "since": "2024-02-29",
            "rating": "4,50",
            "vip": "ya",
            "tier": "B",
            "motto": " hi ",
        },
    )

    assert cleaned == {
        "since": "2024-02-29",
        "rating": "4.50",
        "vip": True,
        "tier": "B",
        "motto": "hi",
    }


@pytest.mark.parametrize(
    ("code", "field_type", "raw"),
    [
        ("since", "date", "29/02/2024"),
        ("since", "date", "2023-02-29"),
        ("rating", "number", "four"),
        ("rating", "number", "1e400"),
        ("vip", "bool", "maybe"),
        ("tier", "choice", "C"),
        ("motto", "text", "x" * 1001),
    ],
)
def test_bad_values_name_the_field(admin_user, code, field_type, raw):
    define(
        admin_user, code, field_type, choices=["A"] if field_type == "choice" else None
    )
    with pytest.raises(ValidationFailed) as excinfo:
        custom_fields.clean_values("parties.client", {code: raw})
    assert list(excinfo.value.fields) == [f"custom.{code}"]


def test_required_field_must_be_given_but_partial_update_keeps_it(admin_user):
    define(admin_user, "tier", "choice", choices=["A"], required=True)
    with pytest.raises(ValidationFailed) as excinfo:
        custom_fields.clean_values("parties.client", {})
    assert "custom.tier" in excinfo.value.fields
    assert custom_fields.clean_values(
        "parties.client", {}, existing={"tier": "A"}, partial=True
    ) == {"tier": "A"}


def test_definition_rules(admin_user):
    define(admin_user, "tier", "choice", choices=["A"])
    for kwargs, field in [
        ({"code": "tier"}, "code"),
        ({"code": "Bad Code"}, "code"),
        ({"code": "ok", "field_type": "choice", "choices": []}, "choices"),
        ({"code": "ok", "field_type": "colour"}, "field_type"),
        ({"code": "ok", "object_type": "nope"}, "object_type"),
    ]:
        args = {
            "actor": admin_user,
            "object_type": "parties.client",
            "label": "L",
            "field_type": "text",
            **kwargs,
        }
        with pytest.raises(ValidationFailed) as excinfo:
            custom_fields.custom_field_create(**args)
        assert field in excinfo.value.fields
    assert CustomField.objects.count() == 1


def test_filters_work_on_both_databases(admin_user):
    define(admin_user, "tier", "choice", choices=["A", "B"])
    define(admin_user, "vip", "bool")
    define(admin_user, "motto", "text")
    a = ClientFactory(custom={"tier": "A", "vip": True, "motto": "Fast and Fair"})
    ClientFactory(custom={"tier": "B", "vip": False})
    qs = Client.objects.all()

    assert list(
        custom_fields.filter_queryset(qs, "parties.client", {"cf_tier": "A"})
    ) == [a]
    assert list(
        custom_fields.filter_queryset(qs, "parties.client", {"cf_vip": "yes"})
    ) == [a]
    assert list(
        custom_fields.filter_queryset(qs, "parties.client", {"cf_motto": "fair"})
    ) == [a]
    with pytest.raises(ValidationFailed):
        custom_fields.filter_queryset(qs, "parties.client", {"cf_tier": "Z"})
