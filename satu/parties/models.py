"""Clients (partners), counterparties (legal entities), contact persons and
the client timeline. See docs/domains/parties.md."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from satu.core.models import TimeStampedModel


class Company(TimeStampedModel):
    """One of our own legal entities: the seller on quotes and invoices, the
    owner of bank accounts, the key of document numbering (ACC-2 adds
    consolidation across several)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    legal_name = models.CharField(_("legal name"), max_length=255)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, default="ID")
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    is_default = models.BooleanField(_("default company"), default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="parties_company_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ClientGroup(TimeStampedModel):
    """A segment (CRM-8): a manual group of clients, or a rule segment whose
    members are computed from `rules` and stored in the same `Client.groups`
    table so lists, reports and mailings cut by it with one subquery
    (ADR 009, `satu.parties.segments`)."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Manual")
        RULE = "rule", _("By rules")

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.MANUAL
    )
    # {"groups": [[{"field", "operator", "value"}, ...], ...]}: the conditions
    # of one inner list must all hold (AND); any inner list may hold (OR).
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    recomputed_at = models.DateTimeField(_("recomputed"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client group")
        indexes = [models.Index(fields=["kind", "is_active"])]

    def __str__(self) -> str:
        return self.name


class Channel(TimeStampedModel):
    """How a client learned about us: an advertising channel (tree, P6)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("channel")
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="channel_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class Client(TimeStampedModel):
    """The business relationship (partner); P1 hub of every record."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        PERSON = "person", _("Person")

    class Status(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CLIENT = "client", _("Client")
        FORMER = "former", _("Former client")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROSPECT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_clients",
        verbose_name=_("manager"),
    )
    groups = models.ManyToManyField(
        ClientGroup, blank=True, related_name="clients", verbose_name=_("groups")
    )
    source_channel = models.ForeignKey(
        Channel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clients",
        verbose_name=_("source channel"),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    address = models.TextField(_("address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(default=dict, blank=True)
    is_archived = models.BooleanField(_("archived"), default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    # Lower-cased name, phones (international and national digits), emails and
    # tax ids of the client, its contacts and counterparties: one column that
    # a trigram index serves for substring search on PostgreSQL.
    search_text = models.TextField(default="", blank=True, editable=False)
    name_key = models.CharField(max_length=200, default="", editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        permissions = [
            ("view_all_clients", _("Can see and edit every manager's clients")),
            ("merge_clients", _("Can merge clients")),
        ]
        indexes = [
            models.Index(fields=["owner", "is_archived", "name"]),
            models.Index(fields=["is_archived", "name", "id"]),
            models.Index(fields=["status"]),
            models.Index(fields=["name_key"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["email"]),
        ]

    def __str__(self) -> str:
        return self.name


class Counterparty(TimeStampedModel):
    """A legal entity (P2) through which a client trades."""

    legal_name = models.CharField(_("legal name"), max_length=255)
    country = models.CharField(_("country"), max_length=2, default="ID")
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)
    registration_address = models.TextField(_("registration address"), blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["legal_name", "id"]
        verbose_name = _("counterparty")
        verbose_name_plural = _("counterparties")
        indexes = [models.Index(fields=["tax_id"]), models.Index(fields=["legal_name"])]

    def __str__(self) -> str:
        return self.legal_name


class CounterpartyDetail(models.Model):
    """Dated legal name and address: a document uses the row valid on its date."""

    counterparty = models.ForeignKey(
        Counterparty, on_delete=models.CASCADE, related_name="details"
    )
    valid_from = models.DateField(_("valid from"))
    legal_name = models.CharField(_("legal name"), max_length=255)
    registration_address = models.TextField(_("registration address"), blank=True)

    class Meta:
        ordering = ["counterparty", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["counterparty", "valid_from"],
                name="counterparty_detail_date_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} from {self.valid_from}"


class BankAccount(models.Model):
    counterparty = models.ForeignKey(
        Counterparty, on_delete=models.CASCADE, related_name="bank_accounts"
    )
    bank_name = models.CharField(_("bank"), max_length=100)
    account_number = models.CharField(_("account number"), max_length=34)
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-is_default", "id"]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.account_number}"


class ClientCounterparty(models.Model):
    """Which legal entities a client trades through, and when (P2)."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="counterparty_links"
    )
    counterparty = models.ForeignKey(
        Counterparty, on_delete=models.PROTECT, related_name="client_links"
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["-valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="client_counterparty_period_valid",
            )
        ]
        indexes = [models.Index(fields=["counterparty", "client"])]

    def __str__(self) -> str:
        return f"{self.client_id} → {self.counterparty_id} from {self.valid_from}"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day and (
            self.valid_to is None or day <= self.valid_to
        )


class Contact(TimeStampedModel):
    """A person who acts for one or more clients."""

    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    search_text = models.TextField(default="", blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def full_name(self) -> str:
        return str(self)


class ContactMethod(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="methods"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    value = models.CharField(max_length=254)
    label = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind", "-is_primary", "id"]
        indexes = [models.Index(fields=["kind", "value"])]

    def __str__(self) -> str:
        return self.value


class ContactRole(models.Model):
    """A contact's role at a client (one person may act for several clients)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="roles")
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="contact_roles"
    )
    role = models.CharField(_("role"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "client", "role"], name="contact_role_unique"
            )
        ]
        indexes = [models.Index(fields=["client", "contact"])]

    def __str__(self) -> str:
        return f"{self.contact_id} at {self.client_id} ({self.role})"


class TimelineEntry(models.Model):
    """One event in a client's history; every domain appends through
    `parties.services.timeline_record` (ARCHITECTURE rule 6)."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="timeline"
    )
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=40)
    summary = models.CharField(max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    url = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["client", "-at", "-id"]),
            models.Index(fields=["client", "kind", "-at"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.summary}"
