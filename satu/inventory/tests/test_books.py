from decimal import Decimal

import pytest
from django.core.management import call_command

from satu.core.books import check_books
from satu.inventory.models import Quant, Reservation, StockLevel
from satu.inventory.tests.factories import receive

pytestmark = pytest.mark.django_db


def test_clean_books_exit_zero(keeper, wh, product, capsys):
    receive(keeper, wh, product, 3)
    call_command("check_books")
    assert "inventory: ok" in capsys.readouterr().out


def test_tampered_balances_are_reported(keeper, wh, product, capsys):
    receive(keeper, wh, product, 3)
    Quant.objects.filter(product=product).update(quantity=Decimal("2"))
    StockLevel.objects.filter(product=product).update(reserved=Decimal("1"))
    problems = check_books(["inventory"])["inventory"]
    assert any("balance 2 but moves give 3" in p for p in problems)
    assert any("reserved 1 but the ledger gives 0" in p for p in problems)
    assert any("on hand 3 but the ledger gives 2" in p for p in problems)
    with pytest.raises(SystemExit) as exc:
        call_command("check_books")
    assert exc.value.code == 1
    assert "difference" in capsys.readouterr().out
    assert Reservation.objects.count() == 0
