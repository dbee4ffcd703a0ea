"""Contracts, customer and supplier invoices, credit notes, payments, bank
accounts and cash desks, receivables and payables (SAL-4).
See docs/domains/billing.md."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from satu.core.fields import AmountField, QuantityField
from satu.core.models import TimeStampedModel


class Contract(TimeStampedModel):
    """The terms agreed with a counterparty: currency, prices, payment days,
    prepayment, credit limit and how long a debt may stay overdue."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        PURCHASE = "purchase", _("Purchase")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("number"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    company = models.ForeignKey(
        "parties.Company", on_delete=models.PROTECT, related_name="+"
    )
    counterparty = models.ForeignKey(
        "parties.Counterparty",
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("counterparty"),
    )
    client = models.ForeignKey(
        "parties.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("client"),
    )
    currency = models.CharField(_("currency"), max_length=3)
    price_list = models.ForeignKey(
        "catalog.PriceList",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("price list"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    prepayment_percent = models.DecimalField(
        _("prepayment %"), max_digits=5, decimal_places=2, default=0
    )
    payment_days = models.PositiveIntegerField(_("payment days"), default=0)
    credit_limit = AmountField(_("credit limit"), null=True, blank=True)
    overdue_days_allowed = models.PositiveIntegerField(
        _("overdue days allowed"), null=True, blank=True
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-valid_from", "-id"]
        verbose_name = _("contract")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="billing_contract_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.number


class CashAccount(TimeStampedModel):
    """Where our money is: a bank account or a cash desk of a company."""

    class Kind(models.TextChoices):
        BANK = "bank", _("Bank account")
        CASH = "cash", _("Cash desk")

    company = models.ForeignKey(
        "parties.Company", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    account_number = models.CharField(_("account number"), max_length=34, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name", "id"]
        verbose_name = _("cash account")

    def __str__(self) -> str:
        return self.name


class PaymentPurpose(TimeStampedModel):
    """Why money moved (sale, advance, refund, loan, salary, tax, other)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("payment purpose")

    def __str__(self) -> str:
        return self.name


class Invoice(TimeStampedModel):
    """A customer or supplier invoice or credit note. Numbered when posted,
    gapless per company, kind and year. `amount_offset` is what credit notes
    settled: on an invoice the sum of its credit notes applied to it, on a
    credit note the part of it applied to the invoice it credits.
    due = total − paid − offset."""

    class Kind(models.TextChoices):
        CUSTOMER_INVOICE = "customer_invoice", _("Customer invoice")
        CUSTOMER_CREDIT_NOTE = "customer_credit_note", _("Customer credit note")
        SUPPLIER_INVOICE = "supplier_invoice", _("Supplier invoice")
        SUPPLIER_CREDIT_NOTE = "supplier_credit_note", _("Supplier credit note")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        POSTED = "posted", _("Posted")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=40, blank=True)
    company = models.ForeignKey(
        "parties.Company", on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        "parties.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("client"),
    )
    counterparty = models.ForeignKey(
        "parties.Counterparty",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("counterparty"),
    )
    contract = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("contract"),
    )
    currency = models.CharField(_("currency"), max_length=3)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.DRAFT
    )
    origin_type = models.CharField(max_length=40, blank=True)
    origin_id = models.BigIntegerField(null=True, blank=True)
    credited_invoice = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("credited invoice"),
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    amount_untaxed = AmountField(_("untaxed"), default=0)
    amount_tax = AmountField(_("tax"), default=0)
    amount_total = AmountField(_("total"), default=0)
    amount_paid = AmountField(_("paid"), default=0)
    amount_offset = AmountField(_("credited"), default=0)
    amount_due = AmountField(_("due"), default=0)
    posted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        permissions = [
            ("view_all_invoices", _("Can see the invoices and payments of all clients"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "number"],
                condition=~Q(number=""),
                name="billing_invoice_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(client__isnull=False) | Q(counterparty__isnull=False),
                name="billing_invoice_has_party",
            ),
        ]
        indexes = [
            models.Index(fields=["origin_type", "origin_id"]),
            models.Index(fields=["state", "due_date"]),
        ]

    def __str__(self) -> str:
        return self.number or str(_("Draft %(kind)s #%(id)s")) % {
            "kind": self.get_kind_display().lower(),
            "id": self.pk,
        }

    @property
    def is_credit_note(self) -> bool:
        return self.kind.endswith("credit_note")

    @property
    def is_customer(self) -> bool:
        return self.kind.startswith("customer")


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("product"),
    )
    description = models.CharField(_("description"), max_length=500)
    quantity = QuantityField(_("quantity"))
    unit_price = AmountField(_("unit price"))
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=0
    )
    tax_rate = models.DecimalField(
        _("tax %"), max_digits=6, decimal_places=3, default=0
    )
    tax_inclusive = models.BooleanField(_("price includes tax"), default=False)
    untaxed = AmountField(_("untaxed"), default=0)
    tax = AmountField(_("tax"), default=0)
    total = AmountField(_("total"), default=0)
    origin_line_id = models.BigIntegerField(null=True, blank=True)
    credited_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_lines",
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("invoice line")

    def __str__(self) -> str:
        return self.description


class Payment(TimeStampedModel):
    """Money received ("in") or paid ("out") through a cash account; what is
    not allocated to invoices stays with the party as an advance."""

    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Paid")

    class State(models.TextChoices):
        POSTED = "posted", _("Posted")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=40)
    company = models.ForeignKey(
        "parties.Company", on_delete=models.PROTECT, related_name="+"
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices
    )
    purpose = models.ForeignKey(
        PaymentPurpose,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("purpose"),
    )
    cash_account = models.ForeignKey(
        CashAccount,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("cash account"),
    )
    client = models.ForeignKey(
        "parties.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("client"),
    )
    counterparty = models.ForeignKey(
        "parties.Counterparty",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("counterparty"),
    )
    amount = AmountField(_("amount"))
    amount_allocated = AmountField(_("allocated"), default=0)
    currency = models.CharField(_("currency"), max_length=3)
    date = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.POSTED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("payment")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "direction", "number"],
                name="billing_payment_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_payment_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return self.number

    @property
    def amount_unallocated(self):
        return self.amount - self.amount_allocated


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="allocations"
    )
    amount = AmountField(_("amount"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("payment allocation")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_allocation_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


class BankStatement(TimeStampedModel):
    """An imported bank statement (CSV); its lines became payments."""

    cash_account = models.ForeignKey(
        CashAccount, on_delete=models.PROTECT, related_name="statements"
    )
    filename = models.CharField(_("file"), max_length=255, blank=True)
    line_count = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bank statement")

    def __str__(self) -> str:
        return self.filename or f"#{self.pk}"


class BankStatementLine(models.Model):
    statement = models.ForeignKey(
        BankStatement, on_delete=models.CASCADE, related_name="lines"
    )
    row = models.PositiveIntegerField()
    date = models.DateField()
    amount = AmountField()
    description = models.CharField(max_length=500, blank=True)
    counterparty_name = models.CharField(max_length=255, blank=True)
    counterparty_account = models.CharField(max_length=64, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["row"]

    def __str__(self) -> str:
        return f"{self.row}: {self.amount}"
