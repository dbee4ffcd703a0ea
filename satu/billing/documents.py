"""The invoice as a printable document (PDF through `satu.core.documents`):
the context every template gets, and the default e-mail text."""

from django.utils.translation import gettext as _

from satu.billing.models import CashAccount, Invoice
from satu.core import documents, formatting
from satu.core.errors import NotFound
from satu.parties import queries as parties_queries


def invoice_context(invoice: Invoice) -> dict:
    """What `billing/pdf/invoice.html` (and an edited copy) may use."""
    company = invoice.company or parties_queries.company_default()
    lines = list(invoice.lines.select_related("product"))
    currency = invoice.currency

    def fmt(amount):
        return formatting.money(amount, currency)

    taxes: dict = {}
    for line in lines:
        group = taxes.setdefault(
            line.tax_rate, {"rate": line.tax_rate.normalize(), "untaxed": 0, "tax": 0}
        )
        group["untaxed"] += line.untaxed
        group["tax"] += line.tax
    rows = [
        {
            "line": line,
            "quantity": formatting.number(line.quantity.normalize()),
            "unit_price": fmt(line.unit_price),
            "discount": line.discount_percent.normalize(),
            "tax_rate": line.tax_rate.normalize(),
            "untaxed": fmt(line.untaxed),
            "total": fmt(line.total),
        }
        for line in lines
    ]
    party_name = ""
    party_address = ""
    party_tax_id = ""
    if invoice.counterparty_id:
        detail = parties_queries.counterparty_details_on(
            invoice.counterparty, invoice.issue_date
        )
        party_name = detail.legal_name if detail else invoice.counterparty.legal_name
        party_address = (
            detail.registration_address
            if detail
            else invoice.counterparty.registration_address
        )
        party_tax_id = invoice.counterparty.tax_id
    if invoice.client_id:
        party_name = party_name or invoice.client.name
        party_address = party_address or invoice.client.address
    accounts = list(
        CashAccount.objects.filter(
            company_id=invoice.company_id,
            kind=CashAccount.Kind.BANK,
            currency=invoice.currency,
            is_active=True,
        ).order_by("name", "id")
    )
    return {
        "invoice": invoice,
        "lines": rows,
        "taxes": [
            {"rate": g["rate"], "untaxed": fmt(g["untaxed"]), "tax": fmt(g["tax"])}
            for g in taxes.values()
            if g["rate"]
        ],
        "untaxed": fmt(invoice.amount_untaxed),
        "tax": fmt(invoice.amount_tax),
        "total": fmt(invoice.amount_total),
        "paid": fmt(invoice.amount_paid + invoice.amount_offset),
        "due": fmt(invoice.amount_due),
        "issue_date": formatting.day(invoice.issue_date),
        "due_date": formatting.day(invoice.due_date),
        "company": company,
        "bank_accounts": accounts,
        "party_name": party_name,
        "party_address": party_address,
        "party_tax_id": party_tax_id,
        "title": {
            Invoice.Kind.CUSTOMER_INVOICE: _("Invoice"),
            Invoice.Kind.CUSTOMER_CREDIT_NOTE: _("Credit note"),
        }.get(invoice.kind, invoice.get_kind_display()),
    }


def invoice_pdf(*, invoice_id: int) -> tuple[bytes, str, Invoice]:
    """(PDF bytes, file name, invoice) — the caller checked visibility."""
    invoice = (
        Invoice.objects.select_related(
            "company", "client", "counterparty", "contract", "credited_invoice"
        )
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise NotFound(_("Invoice not found."))
    pdf = documents.render_pdf("billing.invoice", invoice_context(invoice))
    name = (invoice.number or f"draft-{invoice.pk}").replace("/", "-")
    return pdf, f"{name}.pdf", invoice


def default_message(invoice: Invoice) -> str:
    return _(
        "Dear customer,\n\nplease find attached %(kind)s %(number)s of "
        "%(total)s, due on %(due)s.\n\nKind regards,\n%(company)s"
    ) % {
        "kind": invoice.get_kind_display().lower(),
        "number": invoice.number,
        "total": formatting.money(invoice.amount_total, invoice.currency),
        "due": formatting.day(invoice.due_date),
        "company": invoice.company.legal_name or invoice.company.name,
    }
