"""Bank statement import from a real CSV: parsing (decimal comma, day-first
dates), auto-matching by invoice number then amount + client, confirmed
lines become payments, all or nothing."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from satu.billing import queries, services
from satu.billing.errors import StatementInvalid
from satu.billing.models import BankStatement, Payment
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CSV = (Path(__file__).parent / "data" / "bca_statement.csv").read_bytes()
MAPPING = {
    "date": "Tanggal",
    "amount": "Jumlah",
    "description": "Keterangan",
    "counterparty_name": "Nama",
    "counterparty_account": "Rekening",
}


def test_parse_decimal_comma_and_dates():
    rows = services.statement_parse(CSV, mapping=MAPPING, decimal_separator=",")
    assert [(r.row, r.date, r.amount) for r in rows] == [
        (2, date(2026, 3, 1), Decimal("1110000.00")),
        (3, date(2026, 3, 2), Decimal("500000.00")),
        (4, date(2026, 3, 3), Decimal("250000.00")),
        (5, date(2026, 3, 4), Decimal("-15000.00")),
    ]
    assert rows[0].counterparty_account == "0351234567"
    assert all(not r.errors for r in rows)


def test_point_decimals_credit_debit_columns_and_row_errors():
    text = (
        "Date,Description,Credit,Debit\n"
        '2026-03-01,Payment,"1,250,000.50",\n'
        "2026-03-02,Fee,,25.00\n"
        "31/02/2026,Broken,abc,\n"
    )
    rows = services.statement_parse(
        text,
        mapping={"date": "Date", "credit": "Credit", "debit": "Debit"},
        decimal_separator=".",
    )
    assert rows[0].amount == Decimal("1250000.50")
    assert rows[1].amount == Decimal("-25.00")
    assert len(rows[2].errors) == 2


def test_mapping_must_name_existing_columns():
    with pytest.raises(StatementInvalid):
        services.statement_parse(CSV, mapping={"date": "Nope", "amount": "Jumlah"})
    with pytest.raises(StatementInvalid):
        services.statement_parse(CSV, mapping={"description": "Keterangan"})


def test_proposals_by_reference_then_amount_and_client(accountant, bank, make_invoice):
    toko = ClientFactory(name="Toko Maju")
    sumber = ClientFactory(name="CV Sumber Rejeki")
    by_number = make_invoice(toko, amounts=[Decimal("1110000")])
    make_invoice(toko, amounts=[Decimal("777000")])
    by_amount = make_invoice(sumber, amounts=[Decimal("250000")])
    rows = services.statement_parse(CSV, mapping=MAPPING, decimal_separator=",")

    proposals = queries.statement_proposals(actor=accountant, currency="IDR", rows=rows)

    assert [(p.invoice_id, p.matched_by) for p in proposals] == [
        (by_number.pk, "reference"),
        (None, ""),
        (by_amount.pk, "amount"),
        (None, ""),
    ]
    # The cash deposit names the client: its payment becomes an advance.
    assert proposals[1].client_id == toko.pk


def _lines(rows, proposals):
    return [
        {
            "row": r.row,
            "date": r.date,
            "amount": r.amount,
            "description": r.description,
            "counterparty_name": r.counterparty_name,
            "invoice_id": p.invoice_id,
            "client_id": p.client_id,
            "counterparty_id": p.counterparty_id,
        }
        for r, p in zip(rows, proposals, strict=True)
    ]


def test_import_creates_payments_and_allocations(accountant, bank, make_invoice):
    toko = ClientFactory(name="Toko Maju")
    sumber = ClientFactory(name="CV Sumber Rejeki")
    first = make_invoice(toko, amounts=[Decimal("1110000")])
    second = make_invoice(sumber, amounts=[Decimal("250000")])
    rows = services.statement_parse(CSV, mapping=MAPPING, decimal_separator=",")
    proposals = queries.statement_proposals(actor=accountant, currency="IDR", rows=rows)

    statement = services.bank_statement_import(
        actor=accountant,
        cash_account_id=bank.pk,
        lines=_lines(rows, proposals),
        filename="bca_statement.csv",
    )

    assert statement.line_count == 4
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("paid", "paid")
    payments = list(Payment.objects.order_by("id"))
    assert [(p.direction, p.amount, p.purpose.code) for p in payments] == [
        ("in", Decimal("1110000"), "sale"),
        ("in", Decimal("500000"), "advance"),
        ("in", Decimal("250000"), "sale"),
        ("out", Decimal("15000"), "other"),
    ]
    assert payments[1].client_id == toko.pk
    assert queries.client_balance(client_id=toko.pk)[0].advances == Decimal("500000")


def test_one_bad_row_imports_nothing(accountant, bank, make_invoice):
    toko = ClientFactory(name="Toko Maju")
    invoice = make_invoice(toko, amounts=[Decimal("1110000")])
    services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)
    rows = services.statement_parse(CSV, mapping=MAPPING, decimal_separator=",")
    lines = _lines(rows, [queries.Proposal() for _ in rows])
    lines[0]["invoice_id"] = invoice.pk  # cancelled: refused
    lines[2]["amount"] = Decimal("250000.5")  # IDR has no decimals

    with pytest.raises(StatementInvalid) as caught:
        services.bank_statement_import(
            actor=accountant, cash_account_id=bank.pk, lines=lines
        )

    assert set(caught.value.fields) == {"rows.2", "rows.4"}
    assert Payment.objects.count() == 0
    assert BankStatement.objects.count() == 0


def test_api_preview_and_import(api_client, accountant, bank, make_invoice):
    toko = ClientFactory(name="Toko Maju")
    invoice = make_invoice(toko, amounts=[Decimal("1110000")])
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_client.as_user(accountant)
    preview = api.post(
        "/api/v1/bank-statements/preview",
        {
            "file": SimpleUploadedFile("bca.csv", CSV, content_type="text/csv"),
            "cash_account_id": bank.pk,
            "mapping": json.dumps(MAPPING),
            "decimal_separator": ",",
        },
    )
    assert preview.status_code == 200, preview.json()
    rows = preview.json()["rows"]
    assert rows[0]["invoice_id"] == invoice.pk
    assert rows[0]["matched_by"] == "reference"
    lines = [
        {
            "row": r["row"],
            "date": r["date"],
            "amount": r["amount"],
            "description": r["description"],
            "invoice_id": r["invoice_id"],
            "client_id": r["client_id"],
            "skip": r["amount"].startswith("-"),
        }
        for r in rows
    ]
    imported = api.post(
        "/api/v1/bank-statements",
        {"cash_account_id": bank.pk, "filename": "bca.csv", "lines": lines},
        content_type="application/json",
    )
    assert imported.status_code == 201, imported.json()
    assert imported.json()["line_count"] == 3
    assert Payment.objects.filter(direction="in").count() == 3
