"""Our own legal entities (parties.Company)."""

import pytest

from satu.core.errors import PermissionDenied, ValidationFailed
from satu.parties import queries, services
from satu.parties.models import Company

pytestmark = pytest.mark.django_db


def test_the_first_company_becomes_the_default_and_another_can_take_over(admin_user):
    assert queries.company_default() is None
    first = services.company_save(
        actor=admin_user, code="SN", name="Satu Niaga", currency="idr"
    )
    assert first.is_default and first.currency == "IDR"
    second = services.company_save(
        actor=admin_user, code="SB", name="Satu Bali", is_default=True
    )
    first.refresh_from_db()
    assert second.is_default and not first.is_default
    assert queries.company_default() == second

    services.company_save(actor=admin_user, code="SN", legal_name="PT Satu Niaga")
    first.refresh_from_db()
    assert first.legal_name == "PT Satu Niaga" and first.name == "Satu Niaga"


def test_bad_company_input_changes_nothing(admin_user, manager):
    with pytest.raises(ValidationFailed) as refused:
        services.company_save(actor=admin_user, code="", name="X", currency="RUPIAH")
    assert set(refused.value.fields) == {"code", "currency"}
    with pytest.raises(PermissionDenied):
        services.company_save(actor=manager, code="SN", name="Satu Niaga")
    assert not Company.objects.exists()
