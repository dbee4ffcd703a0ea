"""Delivery dates of sales orders (SAL-3): the order's and each line's,
validation, the delivery's scheduled date, the derived "late" flag (list
filter, badge) without a query per row, API and screens."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from satu.core.errors import ValidationFailed
from satu.inventory.models import Transfer
from satu.inventory.tests.factories import make_product
from satu.sales import queries, services
from satu.sales.models import SalesOrder, SalesOrderLine
from satu.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db


def _today() -> date:
    return timezone.localdate()


def _days(n: int) -> date:
    return _today() + timedelta(days=n)


def _lines(world, *dates):
    """One line per product (3 and 2 units), with the given own dates."""
    rows = [
        {"product_id": p.pk, "quantity": q}
        for p, q in zip(world["products"], (3, 2), strict=False)
    ]
    for row, day in zip(rows, dates, strict=False):
        if day is not None:
            row["delivery_date"] = day
    return rows


def _order(actor, world, *, line_dates=(), **kwargs):
    kwargs.setdefault("order_date", _days(-10))
    return services.sales_order_create(
        actor=actor,
        client_id=world["client"].pk,
        lines=_lines(world, *line_dates),
        warehouse_id=world["wh"].pk,
        **kwargs,
    )


def _late_numbers(actor, **filters) -> set[str]:
    return {
        o.number
        for o in queries.sales_order_list(actor=actor, **filters)
        if o.late  # the annotation, no query
    }


# ------------------------------------------------------------------ services


def test_create_keeps_the_order_and_line_dates(manager, world):
    order = _order(
        manager,
        world,
        delivery_date=_days(5).isoformat(),  # an ISO string
        line_dates=(None, _days(2)),  # a date
    )
    order.refresh_from_db()
    assert order.delivery_date == _days(5)
    lines = list(order.lines.order_by("position"))
    assert [line.delivery_date for line in lines] == [None, _days(2)]


def test_create_without_dates_leaves_them_empty(manager, world):
    order = make_order(manager, world)
    order.refresh_from_db()
    assert order.delivery_date is None
    assert not order.lines.exclude(delivery_date=None).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"delivery_date": "2026-13-45"}, "delivery_date"),
        ({"delivery_date": "next week"}, "delivery_date"),
        ({"delivery_date": 20260101}, "delivery_date"),
        ({"line_dates": (None, "31/12/2026")}, "lines.1.delivery_date"),
    ],
)
def test_create_refuses_malformed_dates_and_writes_nothing(
    manager, world, kwargs, field
):
    before = (SalesOrder.objects.count(), SalesOrderLine.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        _order(manager, world, **kwargs)
    assert list(exc.value.fields) == [field]
    assert "YYYY-MM-DD" in str(exc.value.fields[field][0])
    assert (SalesOrder.objects.count(), SalesOrderLine.objects.count()) == before


def test_create_refuses_a_date_before_the_order_date(manager, world):
    before = SalesOrder.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        _order(
            manager,
            world,
            order_date=_days(-3),
            delivery_date=_days(-4),
            line_dates=(_days(-5), _days(-3)),
        )
    assert set(exc.value.fields) == {"delivery_date", "lines.0.delivery_date"}
    message = str(exc.value.fields["delivery_date"][0])
    assert "before the order date" in message and _days(-3).isoformat() in message
    assert SalesOrder.objects.count() == before
    # The order date itself is fine.
    order = _order(manager, world, order_date=_days(-3), delivery_date=_days(-3))
    assert order.delivery_date == _days(-3)


def test_update_sets_clears_and_keeps_dates(manager, world):
    order = _order(manager, world, delivery_date=_days(4), line_dates=(_days(2),))
    services.sales_order_update(
        actor=manager, order_id=order.pk, note="call first"
    )  # not given: kept
    order.refresh_from_db()
    assert order.delivery_date == _days(4)
    assert order.lines.get(position=1).delivery_date == _days(2)

    services.sales_order_update(
        actor=manager,
        order_id=order.pk,
        delivery_date=_days(6).isoformat(),
        lines=_lines(world, None, _days(7)),
    )
    order.refresh_from_db()
    assert order.delivery_date == _days(6)
    assert [ln.delivery_date for ln in order.lines.order_by("position")] == [
        None,
        _days(7),
    ]
    from satu.core.models import AuditEntry

    entry = AuditEntry.objects.filter(object_id=order.pk, action="updated").latest("pk")
    assert entry.changes["delivery_date"] == [
        _days(4).isoformat(),
        _days(6).isoformat(),
    ]

    services.sales_order_update(actor=manager, order_id=order.pk, delivery_date="")
    order.refresh_from_db()
    assert order.delivery_date is None


def test_update_failures_change_nothing(manager, world):
    order = _order(manager, world, delivery_date=_days(4), line_dates=(_days(2),))
    version = order.version
    lines_before = list(
        order.lines.order_by("pk").values_list("pk", "delivery_date", "quantity")
    )
    with pytest.raises(ValidationFailed) as exc:
        services.sales_order_update(
            actor=manager, order_id=order.pk, delivery_date="soon", note="changed"
        )
    assert list(exc.value.fields) == ["delivery_date"]
    with pytest.raises(ValidationFailed) as exc:
        services.sales_order_update(
            actor=manager, order_id=order.pk, delivery_date=_days(-11)
        )
    assert "before the order date" in str(exc.value.fields["delivery_date"][0])
    with pytest.raises(ValidationFailed) as exc:
        services.sales_order_update(
            actor=manager,
            order_id=order.pk,
            lines=[
                {"product_id": world["products"][0].pk, "quantity": 9},
                {
                    "product_id": world["products"][1].pk,
                    "quantity": 1,
                    "delivery_date": "2026-02-30",
                },
            ],
        )
    assert list(exc.value.fields) == ["lines.1.delivery_date"]
    order.refresh_from_db()
    assert order.version == version and order.note == ""
    assert order.delivery_date == _days(4)
    assert (
        list(order.lines.order_by("pk").values_list("pk", "delivery_date", "quantity"))
        == lines_before
    )


def test_quote_to_order_takes_a_delivery_date(manager, world):
    quote = services.quote_create(
        actor=manager,
        client_id=world["client"].pk,
        lines=[{"product_id": world["products"][0].pk, "quantity": 1}],
    )
    services.quote_accept(actor=manager, quote_id=quote.pk)
    with pytest.raises(ValidationFailed):
        services.quote_to_order(actor=manager, quote_id=quote.pk, delivery_date="x")
    order = services.quote_to_order(
        actor=manager, quote_id=quote.pk, delivery_date=_days(3)
    )
    assert order.delivery_date == _days(3) and order.quote_id == quote.pk


def test_delivery_is_scheduled_on_the_earliest_date_shipped(manager, world):
    order = _order(manager, world, delivery_date=_days(10), line_dates=(_days(3),))
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    first, second = order.lines.order_by("position")
    # Only the line without a date of its own: the order's date.
    transfer = services.sales_order_ship(
        actor=manager, order_id=order.pk, quantities={second.pk: 1}, one_step=False
    )
    assert transfer.scheduled_date == _days(10)
    # Both lines: the earlier line date.
    transfer = services.sales_order_ship(
        actor=manager,
        order_id=order.pk,
        quantities={first.pk: 1, second.pk: 1},
        one_step=False,
    )
    assert transfer.scheduled_date == _days(3)
    # Stored: the warehouse's transfer list shows it.
    assert Transfer.objects.get(pk=transfer.pk).scheduled_date == _days(3)


def test_delivery_without_dates_is_not_scheduled(manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    transfer = services.sales_order_ship(actor=manager, order_id=order.pk)
    assert transfer.scheduled_date is None


def test_delivery_dates_add_no_query_to_the_services(manager, world):
    """The counts pinned in test_orders stay: dates are parsed without
    queries and the scheduled date comes from rows already read."""
    from satu.core import txcache

    def counts(**kwargs):
        txcache.forget()
        with CaptureQueriesContext(connection) as create:
            order = _order(manager, world, order_date=_today(), **kwargs)
        txcache.forget()
        with CaptureQueriesContext(connection) as confirm:
            services.sales_order_confirm(actor=manager, order_id=order.pk)
        txcache.forget()
        with CaptureQueriesContext(connection) as ship:
            services.sales_order_ship(actor=manager, order_id=order.pk)
        return [len(create), len(confirm), len(ship)]

    counts()  # number counters
    plain = counts()
    dated = counts(delivery_date=_days(2), line_dates=(_days(1), _days(3)))
    assert dated == plain


# ------------------------------------------------------------------ late


@pytest.fixture
def orders(manager, world):
    """Orders in every situation the "late" flag distinguishes."""
    o = {}
    o["late"] = _order(manager, world, delivery_date=_days(-2))
    o["future"] = _order(manager, world, delivery_date=_days(2))
    o["undated"] = _order(manager, world)
    o["draft_past"] = _order(manager, world, delivery_date=_days(-2))
    o["line_late"] = _order(
        manager, world, delivery_date=_days(5), line_dates=(None, _days(-1))
    )
    o["shipped_part"] = _order(
        manager, world, delivery_date=_days(4), line_dates=(_days(-3),)
    )
    o["partly_late"] = _order(
        manager, world, delivery_date=_days(-1), line_dates=(_days(-3),)
    )
    o["shipped"] = _order(manager, world, delivery_date=_days(-2))
    o["cancelled"] = _order(manager, world, delivery_date=_days(-2))
    for key in o:
        if key != "draft_past":
            services.sales_order_confirm(actor=manager, order_id=o[key].pk)
    # The late line (position 1) fully shipped: the rest is due in 4 days.
    first = o["shipped_part"].lines.get(position=1)
    services.sales_order_ship(
        actor=manager, order_id=o["shipped_part"].pk, quantities={first.pk: 3}
    )
    # Partly shipped, what is left is still overdue: processing and late.
    first = o["partly_late"].lines.get(position=1)
    services.sales_order_ship(
        actor=manager, order_id=o["partly_late"].pk, quantities={first.pk: 1}
    )
    services.sales_order_ship(actor=manager, order_id=o["shipped"].pk)
    services.sales_order_cancel(
        actor=manager, order_id=o["cancelled"].pk, reason="test"
    )
    return {k: SalesOrder.objects.get(pk=v.pk) for k, v in o.items()}


def test_late_flag_and_filter(manager, orders):
    assert orders["partly_late"].state == SalesOrder.State.PROCESSING
    assert orders["shipped"].shipping_status == SalesOrder.Progress.FULL
    late = {orders[k].number for k in ("late", "line_late", "partly_late")}
    assert _late_numbers(manager) == late
    assert {o.number for o in queries.sales_order_list(actor=manager, late=True)} == (
        late
    )
    others = {o.number for o in queries.sales_order_list(actor=manager, late=False)}
    assert others == {o.number for o in orders.values()} - late


def test_next_delivery_date_is_the_earliest_still_to_ship(manager, orders):
    got = {
        o.pk: (o.next_delivery_date, o.delivery_due)
        for o in queries.sales_order_list(actor=manager)
    }
    assert got[orders["shipped_part"].pk] == (_days(4), _days(4))
    assert got[orders["line_late"].pk] == (_days(-1), _days(-1))
    assert got[orders["undated"].pk] == (None, None)
    # Everything shipped: nothing next, the column shows the order's date.
    assert got[orders["shipped"].pk] == (None, _days(-2))
    order = queries.sales_order_get(actor=manager, order_id=orders["line_late"].pk)
    assert order.late is True and order.next_delivery_date == _days(-1)


def _order_with_an_overdue_line(actor, world, product):
    """Goods due in 3 days and a line of `product` due 5 days ago; confirmed."""
    order = services.sales_order_create(
        actor=actor,
        client_id=world["client"].pk,
        order_date=_days(-10),
        delivery_date=_days(3),
        warehouse_id=world["wh"].pk,
        lines=[
            {"product_id": world["products"][0].pk, "quantity": 1},
            {
                "product_id": product.pk,
                "quantity": 1,
                "unit_price": "5",
                "delivery_date": _days(-5),
            },
        ],
    )
    services.sales_order_confirm(actor=actor, order_id=order.pk)
    return queries.sales_order_get(actor=actor, order_id=order.pk)


def test_service_lines_are_never_late(manager, world):
    service = make_product(sku="SRV", name="Installation", kind="service")
    order = _order_with_an_overdue_line(manager, world, service)
    assert order.late is False and order.next_delivery_date == _days(3)


def test_kits_of_services_only_are_never_late(manager, world):
    """A kit whose components are all services is delivered like a service:
    its date does not make the order late; a kit with goods does."""
    from satu.catalog.models import KitComponent

    service = make_product(sku="SRV", name="Installation", kind="service")
    setup = make_product(sku="KSRV", name="Setup pack", kind="kit")
    KitComponent.objects.create(kit=setup, component=service, quantity=1)
    boxed = make_product(sku="KGDS", name="Boxed pack", kind="kit")
    KitComponent.objects.create(kit=boxed, component=world["products"][1], quantity=1)

    only_services = _order_with_an_overdue_line(manager, world, setup)
    assert only_services.late is False
    assert only_services.next_delivery_date == _days(3)
    with_goods = _order_with_an_overdue_line(manager, world, boxed)
    assert with_goods.late is True
    assert with_goods.next_delivery_date == _days(-5)


def test_late_depends_on_today(manager, orders):
    qs = queries.with_delivery(SalesOrder.objects.all(), today=_days(-30))
    assert not [o for o in qs if o.late]
    qs = queries.with_delivery(SalesOrder.objects.all(), today=_days(30))
    assert {o.number for o in qs if o.late} == {
        orders[k].number
        for k in ("late", "future", "line_late", "shipped_part", "partly_late")
    }


def test_sort_by_delivery_date(manager, orders):
    dues = [
        o.delivery_due for o in queries.sales_order_list(actor=manager, sort="delivery")
    ]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated) and dues[-1] is None  # undated last
    dues = [
        o.delivery_due
        for o in queries.sales_order_list(actor=manager, sort="-delivery")
    ]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated, reverse=True) and dues[-1] is None


def test_list_view_and_api_make_no_query_per_order(
    client, api_client, manager, world, django_assert_num_queries
):
    first = _order(manager, world, delivery_date=_days(-1))
    services.sales_order_confirm(actor=manager, order_id=first.pk)  # late
    client.force_login(manager)
    api = api_client.as_user(manager)
    urls = [
        reverse("sales_order_list"),
        reverse("sales_order_list") + "?late=1&sort=delivery",
        "/api/v1/sales-orders",
        "/api/v1/sales-orders?late=true",
    ]

    def get(url):
        return (api if url.startswith("/api/") else client).get(url)

    one = {}
    for url in urls:
        get(url)  # warm the per-process caches the request uses
        with CaptureQueriesContext(connection) as queries_:
            get(url)
        one[url] = len(queries_)
    for i in range(5):
        order = _order(
            manager,
            world,
            delivery_date=_days(-1 - i),
            line_dates=(_days(i - 2),),
        )
        if i % 2:
            services.sales_order_confirm(actor=manager, order_id=order.pk)
    for url in urls:
        get(url)
        with django_assert_num_queries(one[url]):
            response = get(url)
        assert response.status_code == 200
    assert api.get("/api/v1/sales-orders?late=true").json()["count"] == 3


# ------------------------------------------------------------------ API


def test_api_create_patch_and_filter(api_client, manager, world):
    api = api_client.as_user(manager)
    p1, p2 = world["products"]
    body = {
        "client_id": world["client"].pk,
        "warehouse_id": world["wh"].pk,
        "order_date": _days(-5).isoformat(),
        "delivery_date": _days(-1).isoformat(),
        "lines": [
            {"product_id": p1.pk, "quantity": "1"},
            {
                "product_id": p2.pk,
                "quantity": "1",
                "delivery_date": _days(3).isoformat(),
            },
        ],
    }
    response = api.post("/api/v1/sales-orders", body, content_type="application/json")
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["delivery_date"] == _days(-1).isoformat()
    assert [ln["delivery_date"] for ln in order["lines"]] == [
        None,
        _days(3).isoformat(),
    ]
    assert order["next_delivery_date"] == _days(-1).isoformat()
    assert order["late"] is False  # a draft is not late
    url = f"/api/v1/sales-orders/{order['id']}"
    response = api.post(f"{url}/confirm", {}, content_type="application/json")
    assert response.json()["late"] is True

    listed = api.get("/api/v1/sales-orders?late=true").json()
    assert [o["number"] for o in listed["items"]] == [order["number"]]
    assert listed["items"][0]["late"] is True
    assert api.get("/api/v1/sales-orders?late=false").json()["count"] == 0

    other = api.post(
        "/api/v1/sales-orders",
        {**body, "delivery_date": None, "lines": body["lines"][:1]},
        content_type="application/json",
    ).json()
    other_url = f"/api/v1/sales-orders/{other['id']}"
    response = api.patch(
        other_url,
        {"delivery_date": _days(1).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["delivery_date"] == _days(1).isoformat()
    response = api.patch(
        other_url, {"delivery_date": None}, content_type="application/json"
    )
    assert response.json()["delivery_date"] is None


def test_api_refuses_bad_dates(api_client, manager, world):
    api = api_client.as_user(manager)
    base = {
        "client_id": world["client"].pk,
        "warehouse_id": world["wh"].pk,
        "lines": [{"product_id": world["products"][0].pk, "quantity": "1"}],
    }
    before = SalesOrder.objects.count()
    response = api.post(
        "/api/v1/sales-orders",
        {**base, "delivery_date": "tomorrow"},
        content_type="application/json",
    )
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "validation_error"
    assert any(key.endswith("delivery_date") for key in error["fields"])
    response = api.post(
        "/api/v1/sales-orders",
        {
            **base,
            "order_date": _today().isoformat(),
            "delivery_date": _days(-1).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "validation_error"
    assert "before the order date" in error["fields"]["delivery_date"][0]
    assert SalesOrder.objects.count() == before


# ------------------------------------------------------------------ screens


def test_order_form_has_the_date_fields(client, manager, world):
    client.force_login(manager)
    page = client.get(reverse("sales_order_create")).content.decode()
    assert 'name="delivery_date"' in page and 'type="date"' in page
    assert 'name="line_delivery"' in page
    assert f"{reverse('sales_line_row')}?dates=1" in page
    row = client.get(reverse("sales_line_row") + "?dates=1").content.decode()
    assert 'name="line_delivery"' in row
    # Quotes have no delivery dates.
    assert (
        'name="line_delivery"'
        not in client.get(reverse("sales_line_row")).content.decode()
    )
    assert (
        'name="line_delivery"'
        not in client.get(reverse("quote_create")).content.decode()
    )


def test_create_and_edit_in_the_form(client, manager, world):
    client.force_login(manager)
    p1, p2 = world["products"]
    form = {
        "client": world["client"].pk,
        "warehouse": world["wh"].pk,
        "delivery_date": _days(4).isoformat(),
        "line_product": [p1.pk, p2.pk],
        "line_quantity": ["1", "2"],
        "line_unit": ["", ""],
        "line_price": ["", ""],
        "line_discount": ["", ""],
        "line_delivery": ["", _days(2).isoformat()],
    }
    response = client.post(reverse("sales_order_create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = SalesOrder.objects.latest("pk")
    assert order.delivery_date == _days(4)
    assert [ln.delivery_date for ln in order.lines.order_by("position")] == [
        None,
        _days(2),
    ]
    edit = client.get(reverse("sales_order_edit", args=[order.pk])).content.decode()
    assert f'value="{_days(4).isoformat()}"' in edit
    assert f'name="line_delivery" value="{_days(2).isoformat()}"' in edit
    response = client.post(
        reverse("sales_order_edit", args=[order.pk]),
        {**form, "version": order.version, "delivery_date": ""},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.delivery_date is None


def test_form_refusal_shows_the_message_and_saves_nothing(client, manager, world):
    client.force_login(manager)
    p1 = world["products"][0]
    before = SalesOrder.objects.count()
    response = client.post(
        reverse("sales_order_create"),
        {
            "client": world["client"].pk,
            "warehouse": world["wh"].pk,
            "delivery_date": _days(-1).isoformat(),
            "line_product": [p1.pk],
            "line_quantity": ["1"],
            "line_delivery": ["2026-02-30"],
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "before the order date" in page
    assert "YYYY-MM-DD" in page  # the line's message on its row
    assert SalesOrder.objects.count() == before


def test_list_column_badge_filter_and_sort(client, manager, orders):
    client.force_login(manager)
    url = reverse("sales_order_list")
    page = client.get(url).content.decode()
    assert page.count("data-late") == 3
    assert 'id="sort-delivery"' in page and "?sort=delivery" in page
    page = client.get(url + "?late=1").content.decode()
    for key in ("late", "line_late", "partly_late"):
        assert orders[key].number in page
    for key in ("future", "undated", "shipped", "draft_past", "cancelled"):
        assert orders[key].number not in page
    page = client.get(url + "?late=1&state=processing").content.decode()
    assert orders["partly_late"].number in page and orders["late"].number not in page
    page = client.get(url + "?sort=-delivery&late=1").content.decode()
    assert page.index(orders["late"].number) < page.index(orders["partly_late"].number)
    assert "?late=1&amp;sort=delivery" in page  # the header toggles the sort


def test_order_page_shows_dates_and_badge(client, manager, orders):
    client.force_login(manager)
    page = client.get(
        reverse("sales_order_detail", args=[orders["line_late"].pk])
    ).content.decode()
    assert 'id="order-late"' in page and 'id="order-delivery-date"' in page
    assert "data-delivery" in page and "badge badge-danger" in page
    page = client.get(
        reverse("sales_order_detail", args=[orders["future"].pk])
    ).content.decode()
    assert 'id="order-late"' not in page and 'id="order-delivery-date"' in page
    page = client.get(
        reverse("sales_order_detail", args=[orders["shipped"].pk])
    ).content.decode()
    assert 'id="order-late"' not in page and "scheduled" in page


def test_replaced_lines_carry_their_dates(manager, world):
    """A line date travels with the line when lines are replaced."""
    order = _order(manager, world, line_dates=(_days(1),))
    services.sales_order_update(
        actor=manager,
        order_id=order.pk,
        lines=[
            {
                "product_id": world["products"][0].pk,
                "quantity": Decimal("1.5"),
                "delivery_date": _days(8),
            }
        ],
    )
    line = order.lines.get()
    assert line.quantity == Decimal("1.5") and line.delivery_date == _days(8)


def test_confirmed_order_can_be_rescheduled_but_not_otherwise_changed(
    client, manager, world
):
    from satu.sales.errors import BadState

    order = make_order(manager, world, delivery_date=date.today())
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    later = date.today() + timedelta(days=5)
    services.sales_order_update(
        actor=manager, order_id=order.pk, delivery_date=later.isoformat()
    )
    order.refresh_from_db()
    assert order.delivery_date == later
    with pytest.raises(BadState):
        services.sales_order_update(
            actor=manager, order_id=order.pk, invoice_before_delivery=True
        )
    # The order page offers it.
    client.force_login(manager)
    page = client.get(f"/sales-orders/{order.pk}/").content.decode()
    assert 'id="reschedule-form"' in page
    even_later = later + timedelta(days=2)
    response = client.post(
        f"/sales-orders/{order.pk}/reschedule/",
        {"delivery_date": even_later.isoformat(), "version": order.version},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.delivery_date == even_later
    # A date before the order date is refused on the page, nothing changed.
    response = client.post(
        f"/sales-orders/{order.pk}/reschedule/",
        {"delivery_date": "2000-01-01", "version": order.version},
    )
    assert response.status_code == 422
    order.refresh_from_db()
    assert order.delivery_date == even_later


def test_rescheduling_moves_the_open_delivery(manager, world):
    order = make_order(manager, world, delivery_date=date.today())
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    delivery = services.sales_order_ship(
        actor=manager, order_id=order.pk, one_step=False
    )
    assert delivery.scheduled_date == date.today()
    later = date.today() + timedelta(days=3)
    services.sales_order_update(actor=manager, order_id=order.pk, delivery_date=later)
    delivery.refresh_from_db()
    assert delivery.scheduled_date == later
    # A line with a date of its own keeps the delivery on the earliest one.
    line = order.lines.order_by("pk").first()
    SalesOrderLine.objects.filter(pk=line.pk).update(
        delivery_date=date.today() + timedelta(days=1)
    )
    services.sales_order_update(
        actor=manager, order_id=order.pk, delivery_date=later + timedelta(days=4)
    )
    delivery.refresh_from_db()
    assert delivery.scheduled_date == date.today() + timedelta(days=1)
