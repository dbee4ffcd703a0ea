"""The demo company: who works there, what the clients look like, and a
year of trade (orders, invoices, payments, stock) whose books tie out."""

from collections import Counter
from datetime import timedelta

import phonenumbers
import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from stdnum.id import npwp

from satu.billing.models import Invoice, Payment
from satu.core.books import check_books
from satu.core.models import AuditEntry, CustomField, SystemFlag, User
from satu.demo import loader
from satu.inventory import queries as inventory_queries
from satu.inventory.models import Warehouse
from satu.parties.models import (
    Channel,
    Client,
    ClientCounterparty,
    ClientGroup,
    Contact,
    ContactMethod,
    Counterparty,
    CounterpartyDetail,
    TimelineEntry,
)
from satu.purchasing.models import PurchaseOrder
from satu.sales.models import Quote, SalesOrder


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One small demo shared by this module's tests, rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield loader.load(clients=60)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _db(db):
    pass


def test_staff_has_every_role_and_the_printed_logins_work(demo):
    roles = Counter(User.objects.values_list("groups__name", flat=True))

    assert demo.users == 51
    assert roles == {
        "administrator": 2,
        "director": 1,
        "head_of_sales": 2,
        "sales_manager": 28,
        "marketer": 3,
        "accountant": 3,
        "warehouse": 12,
    }
    assert loader.demo_logins() == [
        {"username": "admin", "password": "admin", "role": "superuser"},
        {"username": "sysadmin", "password": "demo", "role": "administrator"},
        {"username": "director", "password": "demo", "role": "director"},
        {"username": "head", "password": "demo", "role": "head_of_sales"},
        {"username": "sales", "password": "demo", "role": "sales_manager"},
        {"username": "marketing", "password": "demo", "role": "marketer"},
        {"username": "accounting", "password": "demo", "role": "accountant"},
        {"username": "warehouse", "password": "demo", "role": "warehouse"},
    ]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")
    assert User.objects.get(username="head").check_password("demo")
    assert User.objects.get(username="head").groups.get().name == "head_of_sales"


def test_company_outlets_and_warehouse_are_recorded(demo):
    company = SystemFlag.objects.get(key="company").value

    assert company["legal_name"] == "PT Satu Niaga Nusantara"
    assert npwp.is_valid(company["npwp"])
    assert [o["name"] for o in company["outlets"]] == [
        "Outlet Kelapa Gading",
        "Outlet Surabaya Rungkut",
    ]
    assert [w["name"] for w in company["warehouses"]] == ["Gudang Cikarang"]
    flag = SystemFlag.objects.get(key="demo").value
    assert (flag["seed"], flag["clients"]) == (loader.DEFAULT_SEED, 60)


def test_reference_data_groups_channels_and_custom_fields(demo):
    # The loader's groups come first; the CRM demo adds its segments after.
    groups = ClientGroup.objects.order_by("pk").values_list("name", flat=True)
    assert sorted(groups[:5]) == [
        "Distributor",
        "Government",
        "Horeca",
        "Retail",
        "Wholesale",
    ]
    assert sorted(str(c) for c in Channel.objects.filter(parent__name="Online")) == [
        "Online / Google Ads",
        "Online / Instagram",
        "Online / Tokopedia",
        "Online / Website",
    ]
    assert Channel.objects.filter(parent=None).count() == 4
    fields = set(
        CustomField.objects.filter(object_type__startswith="parties.").values_list(
            "object_type", "code", "field_type"
        )
    )
    assert fields == {
        ("parties.client", "industry", "choice"),
        ("parties.client", "credit_rating", "number"),
        ("parties.client", "key_account", "bool"),
        ("parties.contact", "preferred_channel", "choice"),
        ("parties.contact", "birthday", "date"),
        ("parties.counterparty", "pkp", "bool"),
    }


def test_clients_have_valid_identifiers_contacts_and_history(demo):
    clients = Client.objects.all()

    assert demo.clients == clients.count() == 60
    assert Contact.objects.count() == demo.contacts
    assert 60 <= demo.contacts <= 120
    assert Counterparty.objects.count() == demo.counterparties
    tax_ids = Counterparty.objects.values_list("tax_id", flat=True)
    assert all(npwp.is_valid(t) for t in tax_ids)
    phones = list(
        ContactMethod.objects.filter(kind="phone").values_list("value", flat=True)
    )
    phones += [p for p in clients.values_list("phone", flat=True) if p]
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    assert {p[:5] for p in phones} & {"+6281", "+6221"}
    assert set(clients.values_list("status", flat=True)) == {
        "lead",
        "prospect",
        "client",
        "former",
    }
    assert {c.custom["industry"] for c in clients} <= set(
        CustomField.objects.get(code="industry").choices
    )
    # Every client was created through the service: audited, on its timeline.
    assert (
        AuditEntry.objects.filter(
            action="created", content_type__model="client"
        ).count()
        == 60
    )
    kinds = set(TimelineEntry.objects.values_list("kind", flat=True))
    assert {
        "client.created",
        "client.status_changed",
        "counterparty.linked",
        "counterparty.unlinked",
        "contact.linked",
        "note",
    } <= kinds
    # Dated legal names and links that ended.
    assert (
        CounterpartyDetail.objects.values("counterparty").distinct().count()
        < CounterpartyDetail.objects.count()
    )
    assert ClientCounterparty.objects.exclude(valid_to=None).exists()
    # Both kinds of names.
    names = " ".join(clients.values_list("name", flat=True))
    assert any(w in names for w in ("Toko", "Warung", "Makmur", "Jaya", "Sentosa"))
    assert any(w in names for w in ("Trading", "Mart", "Hotel", "Supplies", "Café"))


# ------------------------------------------------------------ trade


def test_orders_go_through_every_step(demo):
    states = set(SalesOrder.objects.values_list("state", flat=True))
    shipping = set(SalesOrder.objects.values_list("shipping_status", flat=True))

    assert demo.sales_orders == SalesOrder.objects.count() >= 40
    assert {"done", "processing", "confirmed"} <= states
    assert {"full", "partial"} <= shipping
    assert SalesOrder.objects.filter(deal__isnull=False).exists()
    assert SalesOrder.objects.filter(contract__isnull=False).exists()
    assert SalesOrder.objects.filter(warehouse__is_outlet=True).exists()
    dates = SalesOrder.objects.order_by("order_date").values_list(
        "order_date", flat=True
    )
    assert (dates.last() - dates.first()).days > 180


def test_orders_have_delivery_dates_and_some_are_late(demo):
    from django.db.models import F

    from satu.sales import queries as sales_queries

    orders = sales_queries.with_delivery(SalesOrder.objects.all())
    dated = orders.exclude(delivery_date=None)
    assert dated.count() >= orders.count() // 2
    assert not dated.filter(delivery_date__lt=F("order_date")).exists()
    assert orders.filter(late=True).exists()  # some open orders are overdue


def test_invoices_and_payments_leave_paid_partly_paid_and_open_debts(demo):
    invoices = Invoice.objects.filter(kind="customer_invoice")
    states = set(invoices.values_list("state", flat=True))

    assert demo.invoices == invoices.count() > 20
    assert {"paid", "posted"} <= states
    assert invoices.filter(state="posted", amount_paid__gt=0).exists()
    assert invoices.filter(
        issue_date__lt=timezone.localdate() - timedelta(days=180)
    ).exists()
    assert Invoice.objects.filter(
        kind="customer_credit_note", state__in=["posted", "paid"]
    ).exists()
    assert Invoice.objects.filter(kind="supplier_invoice").exists()
    received = Payment.objects.filter(direction="in").aggregate(s=Sum("amount"))["s"]
    allocated = invoices.aggregate(s=Sum("amount_paid"))["s"]
    assert received == allocated > 0


def test_quotes_in_every_state_and_stock_keeps_flowing(demo):
    states = set(Quote.objects.values_list("state", flat=True))

    assert states == set(Quote.State.values)
    assert PurchaseOrder.objects.filter(state="done").exists()
    main = Warehouse.objects.filter(is_outlet=False).order_by("pk").first()
    sold = SalesOrder.objects.filter(warehouse=main).values_list(
        "lines__product_id", flat=True
    )
    stock = inventory_queries.stock_availability(
        product_ids=list(sold), warehouse_id=main.pk
    )
    assert any(row.on_hand > 0 for row in stock.values())
    waiting = SalesOrder.objects.filter(state="confirmed").first()
    reserved = inventory_queries.stock_availability(
        product_ids=list(waiting.lines.values_list("product_id", flat=True)),
        warehouse_id=waiting.warehouse_id,
    )
    assert any(row.reserved > 0 for row in reserved.values())


def test_books_are_clean_after_the_demo(demo):
    assert check_books() == {name: [] for name in check_books()}
