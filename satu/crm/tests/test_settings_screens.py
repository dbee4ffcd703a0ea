"""CRM configuration: the update services and the /settings/crm/ screens."""

import pytest

from satu.core.errors import NotFound, PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry
from satu.core.testing.helpers import make_user
from satu.crm import services
from satu.crm.models import (
    ClaimCategory,
    Competitor,
    DealKind,
    LossReason,
    Stage,
    StageRule,
)
from satu.crm.tests.factories import (
    CompetitorFactory,
    LossReasonFactory,
    StageRuleFactory,
    pipeline,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin(db):
    return make_user("admin", role="administrator")


def names(kind):
    return list(
        Stage.objects.filter(kind=kind)
        .order_by("position")
        .values_list("name", flat=True)
    )


# ---------------------------------------------------------------- services


def test_deal_kind_update(admin):
    kind, _stages = pipeline()
    services.deal_kind_update(
        actor=admin, kind_id=kind.pk, name="Projects", is_active=False
    )
    kind.refresh_from_db()
    assert (kind.name, kind.is_active) == ("Projects", False)
    assert AuditEntry.objects.filter(object_id=kind.pk, action="updated").exists()
    with pytest.raises(ValidationFailed) as caught:
        services.deal_kind_update(
            actor=admin, kind_id=kind.pk, control_mode="status_only"
        )
    assert "control_mode" in caught.value.fields
    kind.refresh_from_db()
    assert kind.control_mode == DealKind.ControlMode.MANUAL_STAGES


def test_stage_update_and_reorder(admin):
    kind, (lead, offer, contract) = pipeline()
    services.stage_update(actor=admin, stage_id=offer.pk, name="Quote", probability=45)
    offer.refresh_from_db()
    assert (offer.name, offer.probability) == ("Quote", 45)
    with pytest.raises(ValidationFailed):
        services.stage_update(actor=admin, stage_id=offer.pk, probability=101)

    services.stage_reorder(
        actor=admin, kind_id=kind.pk, stage_ids=[contract.pk, lead.pk, offer.pk]
    )
    assert names(kind) == ["Contract", "Lead", "Quote"]

    with pytest.raises(ValidationFailed):
        services.stage_reorder(actor=admin, kind_id=kind.pk, stage_ids=[lead.pk])
    assert names(kind) == ["Contract", "Lead", "Quote"]


def test_stage_rule_delete(admin):
    _kind, (lead, *_rest) = pipeline()
    rule = StageRuleFactory(stage=lead)
    services.stage_rule_delete(actor=admin, rule_id=rule.pk)
    assert not StageRule.objects.filter(pk=rule.pk).exists()
    with pytest.raises(NotFound):
        services.stage_rule_delete(actor=admin, rule_id=rule.pk)


def test_reference_updates(admin, manager):
    reason = LossReasonFactory(name="Price")
    LossReasonFactory(name="Timing")
    services.loss_reason_update(actor=admin, reason_id=reason.pk, name="Too expensive")
    services.loss_reason_update(actor=admin, reason_id=reason.pk, is_active=False)
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("Too expensive", False)
    with pytest.raises(ValidationFailed):
        services.loss_reason_update(actor=admin, reason_id=reason.pk, name="Timing")
    with pytest.raises(PermissionDenied):
        services.loss_reason_update(actor=manager, reason_id=reason.pk, name="X")
    competitor = CompetitorFactory(name="Acme")
    services.competitor_update(
        actor=admin, competitor_id=competitor.pk, website="acme.example"
    )
    competitor.refresh_from_db()
    assert competitor.website == "acme.example"
    category = services.claim_category_create(actor=admin, name="Delivery")
    services.claim_category_update(actor=admin, category_id=category.pk, name="Late")
    assert ClaimCategory.objects.get(pk=category.pk).name == "Late"


# ---------------------------------------------------------------- screens


def test_settings_index_lists_kinds_and_creates_one(client, admin):
    pipeline()
    client.force_login(admin)
    page = client.get("/settings/crm/").content.decode()
    assert "Lead → Offer → Contract" in page
    assert 'href="/settings/crm/loss-reasons/"' in page

    response = client.post(
        "/settings/crm/kinds/new/",
        {"name": "Service", "control_mode": "manual_stages", "stages": "Ask\nFix\n"},
    )
    kind = DealKind.objects.get(name="Service")
    assert response.status_code == 302
    assert names(kind) == ["Ask", "Fix"]


def test_settings_refuses_bad_kind_with_the_service_message(client, admin):
    client.force_login(admin)
    response = client.post(
        "/settings/crm/kinds/new/", {"name": "Empty", "control_mode": "manual_stages"}
    )
    assert response.status_code == 422
    assert "Give at least one stage." in response.content.decode()
    assert not DealKind.objects.filter(name="Empty").exists()


def test_kind_page_actions(client, admin):
    kind, (lead, offer, contract) = pipeline()
    client.force_login(admin)
    url = f"/settings/crm/kinds/{kind.pk}/"
    assert client.get(url).status_code == 200

    client.post(url, {"action": "stage_down", "stage": lead.pk})
    assert names(kind) == ["Offer", "Lead", "Contract"]
    client.post(url, {"action": "stage_add", "name": "Paid", "probability": "100"})
    assert names(kind)[-1] == "Paid"
    client.post(
        url,
        {
            "action": "rule_add",
            "stage": offer.pk,
            "rule_type": "required_field",
            "field_name": "amount",
        },
    )
    rule = StageRule.objects.get(stage=offer)
    assert rule.field_name == "amount"
    bad = client.post(
        url, {"action": "rule_add", "stage": offer.pk, "rule_type": "approval"}
    )
    assert bad.status_code == 422
    assert "Choose one of" in bad.content.decode()
    assert StageRule.objects.filter(stage=offer).count() == 1
    client.post(url, {"action": "rule_remove", "rule": rule.pk})
    assert not StageRule.objects.filter(stage=offer).exists()
    client.post(
        url,
        {
            "action": "stage_update",
            "stage": contract.pk,
            "name": "Signed",
            "probability": "90",
        },
    )
    contract.refresh_from_db()
    assert (contract.name, contract.probability) == ("Signed", 90)
    client.post(
        url, {"action": "kind", "name": "Sales", "control_mode": "manual_stages"}
    )
    kind.refresh_from_db()
    assert (kind.name, kind.is_active) == ("Sales", False)


def test_reference_screen(client, admin):
    client.force_login(admin)
    url = "/settings/crm/competitors/"
    client.post(url, {"action": "add", "name": "Rival", "website": "rival.example"})
    rival = Competitor.objects.get(name="Rival")
    assert rival.website == "rival.example"
    dup = client.post(url, {"action": "add", "name": "Rival"})
    assert dup.status_code == 422
    assert "This name is already used." in dup.content.decode()
    client.post(url, {"action": "update", "id": rival.pk, "name": "Rival Inc"})
    rival.refresh_from_db()
    assert (rival.name, rival.is_active) == ("Rival Inc", False)
    client.post("/settings/crm/loss-reasons/", {"action": "add", "name": "Price"})
    assert LossReason.objects.filter(name="Price").exists()
    assert client.get("/settings/crm/unknown/").status_code == 404


def test_unmet_demand_reasons_are_configured_on_screen(client, admin):
    from satu.crm.models import UnmetDemandReason

    client.force_login(admin)
    url = "/settings/crm/unmet-demand-reasons/"
    assert "Reasons for unmet demand" in client.get("/settings/crm/").content.decode()
    client.post(url, {"action": "add", "name": "Out of stock"})
    reason = UnmetDemandReason.objects.get(name="Out of stock")
    client.post(url, {"action": "update", "id": reason.pk, "name": "No stock"})
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("No stock", False)


def test_sales_manager_cannot_configure(client, manager):
    client.force_login(manager)
    assert client.get("/settings/crm/").status_code == 403
    assert (
        client.post(
            "/settings/crm/loss-reasons/", {"action": "add", "name": "X"}
        ).status_code
        == 403
    )
    assert not LossReason.objects.exists()
