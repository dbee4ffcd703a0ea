"""Purchase orders: create, edit, confirm, receive, cancel (services)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from satu.catalog.tests.factories import TaxRuleFactory
from satu.core.errors import ValidationFailed, VersionConflict
from satu.core.models import AuditEntry
from satu.inventory import queries as inv
from satu.inventory.errors import LotRequired
from satu.inventory.models import StockMove, Transfer
from satu.purchasing import services
from satu.purchasing.errors import BadState, NothingToDo, OverReceipt
from satu.purchasing.models import PurchaseOrder, PurchaseOrderLine
from satu.purchasing.tests.factories import SupplierPriceFactory, make_order

D = Decimal


def _snapshot():
    return (
        PurchaseOrder.objects.count(),
        PurchaseOrderLine.objects.count(),
        list(PurchaseOrder.objects.values_list("state", "version")),
        StockMove.objects.count(),
        Transfer.objects.count(),
    )


class TestCreate:
    def test_numbered_priced_and_taxed(self, purchaser, supplier, wh, goods, goods2):
        TaxRuleFactory(rate=D("11"), applies_to="purchases")
        SupplierPriceFactory(supplier=supplier, product=goods, price=D("900"))
        order = make_order(
            purchaser, supplier, wh, [(goods, D("10"), None), (goods2, D("2"), D("50"))]
        )
        year = timezone.localdate().year
        assert order.number == f"PO-{year}-0001"
        assert order.state == "draft" and order.currency == "IDR"
        lines = list(order.lines.order_by("position"))
        assert lines[0].unit_price == D("900")  # from the supplier price
        assert (lines[0].untaxed, lines[0].tax, lines[0].total) == (
            D("9000"),
            D("990"),
            D("9990"),
        )
        assert (order.untaxed, order.tax, order.total) == (
            D("9100"),
            D("1001"),
            D("10101"),
        )
        second = make_order(purchaser, supplier, wh, [(goods, D("1"), D("1"))])
        assert second.number == f"PO-{year}-0002"
        assert AuditEntry.objects.filter(action="created", object_id=order.pk).exists()

    def test_sales_only_tax_rule_is_not_applied(self, purchaser, supplier, wh, goods):
        TaxRuleFactory(rate=D("11"), applies_to="sales")
        order = make_order(purchaser, supplier, wh, [(goods, D("2"), D("100"))])
        assert order.tax == 0 and order.total == D("200")

    @pytest.mark.parametrize("qty", ["0", "-1", "0.0000001", "abc"])
    def test_bad_quantity_refused(self, purchaser, supplier, wh, goods, qty):
        before = _snapshot()
        with pytest.raises(ValidationFailed) as exc:
            make_order(purchaser, supplier, wh, [(goods, qty, D("1"))])
        assert "lines.0.quantity" in exc.value.fields
        assert _snapshot() == before

    def test_price_with_too_many_decimals_refused(self, purchaser, supplier, wh, goods):
        before = _snapshot()
        with pytest.raises(ValidationFailed) as exc:
            make_order(purchaser, supplier, wh, [(goods, D("1"), "1.00001")])
        assert "lines.0.unit_price" in exc.value.fields
        assert _snapshot() == before

    def test_no_supplier_price_and_no_price(self, purchaser, supplier, wh, goods):
        with pytest.raises(ValidationFailed) as exc:
            make_order(purchaser, supplier, wh, [(goods, D("1"), None)])
        assert "lines.0.unit_price" in exc.value.fields

    def test_unknown_currency(self, purchaser, supplier, wh, goods):
        with pytest.raises(ValidationFailed) as exc:
            make_order(purchaser, supplier, wh, [(goods, 1, 1)], currency="XXY")
        assert "currency" in exc.value.fields

    def test_director_cannot_create(self, director, supplier, wh, goods):
        from satu.core.errors import PermissionDenied

        with pytest.raises(PermissionDenied):
            make_order(director, supplier, wh, [(goods, 1, 1)])


class TestUpdate:
    def test_replace_lines_bumps_version(self, draft, purchaser, goods):
        order = services.purchase_order_update(
            actor=purchaser,
            order_id=draft.pk,
            version=draft.version,
            lines=[{"product_id": goods.pk, "quantity": "3", "unit_price": "10"}],
        )
        assert order.version == draft.version + 1
        assert order.total == D("30") and order.lines.count() == 1

    def test_stale_version(self, draft, purchaser):
        before = _snapshot()
        with pytest.raises(VersionConflict):
            services.purchase_order_update(
                actor=purchaser, order_id=draft.pk, version=draft.version - 1, note="x"
            )
        assert _snapshot() == before

    def test_confirmed_order_cannot_be_edited(self, confirmed, purchaser):
        with pytest.raises(BadState):
            services.purchase_order_update(
                actor=purchaser, order_id=confirmed.pk, note="x"
            )


class TestConfirm:
    def test_creates_incoming_receipt(self, confirmed, goods, goods2, wh):
        assert confirmed.state == "confirmed"
        assert confirmed.receipt_status == "nothing"
        receipt = Transfer.objects.get(origin_type="purchasing.order")
        assert receipt.kind == "receipt" and receipt.state == "confirmed"
        assert receipt.origin_id == confirmed.pk
        costs = dict(receipt.lines.values_list("product_id", "unit_cost"))
        assert costs == {goods.pk: D("1000"), goods2.pk: D("2500")}
        avail = inv.stock_availability(product_ids=[goods.pk], warehouse_id=wh.pk)
        assert avail[goods.pk].incoming == D("10")
        assert avail[goods.pk].on_hand == 0

    def test_tax_inclusive_cost_is_untaxed(self, purchaser, supplier, wh, goods):
        TaxRuleFactory(rate=D("10"), inclusive=True, applies_to="purchases")
        order = make_order(purchaser, supplier, wh, [(goods, D("2"), D("110"))])
        services.purchase_order_confirm(actor=purchaser, order_id=order.pk)
        line = Transfer.objects.get(origin_id=order.pk).lines.get()
        assert line.unit_cost == D("100")

    def test_cancelled_order_cannot_be_confirmed(self, draft, purchaser):
        services.purchase_order_cancel(actor=purchaser, order_id=draft.pk)
        before = _snapshot()
        with pytest.raises(BadState) as exc:
            services.purchase_order_confirm(actor=purchaser, order_id=draft.pk)
        assert exc.value.code == "purchasing.bad_state"
        assert _snapshot() == before

    def test_stale_version(self, draft, purchaser):
        with pytest.raises(VersionConflict):
            services.purchase_order_confirm(
                actor=purchaser, order_id=draft.pk, version=draft.version + 5
            )
        draft.refresh_from_db()
        assert draft.state == "draft"

    def test_services_only_order_has_no_receipt(
        self, purchaser, supplier, wh, service_product
    ):
        order = make_order(purchaser, supplier, wh, [(service_product, 1, D("500"))])
        order = services.purchase_order_confirm(actor=purchaser, order_id=order.pk)
        assert order.receipt_status == "none"
        assert not Transfer.objects.exists()


class TestReceive:
    def test_partial_then_rest(self, confirmed, purchaser, goods, goods2, wh):
        lines = {li.product_id: li for li in confirmed.lines.all()}
        transfer = services.purchase_order_receive(
            actor=purchaser,
            order_id=confirmed.pk,
            quantities={lines[goods.pk].pk: "4"},
        )
        assert transfer.state == "done"
        order = PurchaseOrder.objects.get(pk=confirmed.pk)
        assert order.state == "processing" and order.receipt_status == "partial"
        avail = inv.stock_availability(
            product_ids=[goods.pk, goods2.pk], warehouse_id=wh.pk
        )
        assert avail[goods.pk].on_hand == D("4")
        assert avail[goods.pk].incoming == D("6")
        assert avail[goods2.pk].incoming == D("4")
        level = inv.stock_levels(warehouse_id=wh.pk).get(product=goods)
        assert level.value == D("4000")  # valued at the order's price
        lines[goods.pk].refresh_from_db()
        assert lines[goods.pk].received_quantity == D("4")

        services.purchase_order_receive(actor=purchaser, order_id=order.pk)
        order.refresh_from_db()
        assert order.receipt_status == "full"
        assert order.state == "processing"  # still to be billed
        avail = inv.stock_availability(
            product_ids=[goods.pk, goods2.pk], warehouse_id=wh.pk
        )
        assert (avail[goods.pk].on_hand, avail[goods.pk].incoming) == (D("10"), 0)
        assert avail[goods2.pk].on_hand == D("4")

    def test_over_receipt(self, confirmed, purchaser, goods):
        line = confirmed.lines.get(product=goods)
        before = _snapshot()
        with pytest.raises(OverReceipt) as exc:
            services.purchase_order_receive(
                actor=purchaser, order_id=confirmed.pk, quantities={line.pk: "10.5"}
            )
        assert exc.value.code == "purchasing.over_receipt"
        assert f"quantities.{line.pk}" in exc.value.fields
        assert _snapshot() == before

    @pytest.mark.parametrize("qty", ["-1", "1.0000001"])
    def test_bad_quantity(self, confirmed, purchaser, goods, qty):
        line = confirmed.lines.get(product=goods)
        before = _snapshot()
        with pytest.raises(ValidationFailed):
            services.purchase_order_receive(
                actor=purchaser, order_id=confirmed.pk, quantities={line.pk: qty}
            )
        assert _snapshot() == before

    def test_all_zero_is_nothing(self, confirmed, purchaser, goods):
        line = confirmed.lines.get(product=goods)
        with pytest.raises(NothingToDo):
            services.purchase_order_receive(
                actor=purchaser, order_id=confirmed.pk, quantities={line.pk: 0}
            )

    def test_draft_cannot_be_received(self, draft, purchaser):
        with pytest.raises(BadState):
            services.purchase_order_receive(actor=purchaser, order_id=draft.pk)

    def test_lot_required(self, purchaser, supplier, wh, lot_goods):
        order = make_order(purchaser, supplier, wh, [(lot_goods, D("5"), D("10"))])
        services.purchase_order_confirm(actor=purchaser, order_id=order.pk)
        before = _snapshot()
        line = order.lines.get()
        with pytest.raises(LotRequired) as exc:
            services.purchase_order_receive(actor=purchaser, order_id=order.pk)
        assert exc.value.code == "inventory.lot_required"
        assert f"lots.{line.pk}" in exc.value.fields
        assert _snapshot() == before
        services.purchase_order_receive(
            actor=purchaser, order_id=order.pk, lots={line.pk: "L-1"}
        )
        move = StockMove.objects.get(origin_type="purchasing.order")
        assert move.lot.code == "L-1" and move.quantity == D("5")

    def test_receipt_validated_by_the_warehouse_updates_the_order(
        self, confirmed, purchaser, django_capture_on_commit_callbacks
    ):
        from satu.inventory import services as inv_services

        receipt = Transfer.objects.get(origin_id=confirmed.pk)
        with django_capture_on_commit_callbacks(execute=True):
            inv_services.transfer_done(actor=purchaser, transfer_id=receipt.pk)
        order = PurchaseOrder.objects.get(pk=confirmed.pk)
        assert order.receipt_status == "full"
        assert order.state == "processing"

    def test_receipt_cancelled_in_inventory_is_recreated(
        self, confirmed, purchaser, goods
    ):
        from satu.inventory import services as inv_services

        receipt = Transfer.objects.get(origin_id=confirmed.pk)
        inv_services.transfer_cancel(actor=purchaser, transfer_id=receipt.pk)
        line = confirmed.lines.get(product=goods)
        services.purchase_order_receive(
            actor=purchaser, order_id=confirmed.pk, quantities={line.pk: "3"}
        )
        line.refresh_from_db()
        assert line.received_quantity == D("3")


class TestCancel:
    def test_draft(self, draft, purchaser):
        order = services.purchase_order_cancel(actor=purchaser, order_id=draft.pk)
        assert order.state == "cancelled"

    def test_confirmed_cancels_receipt(self, confirmed, purchaser, goods, wh):
        order = services.purchase_order_cancel(actor=purchaser, order_id=confirmed.pk)
        assert order.state == "cancelled"
        assert Transfer.objects.get(origin_id=order.pk).state == "cancelled"
        avail = inv.stock_availability(product_ids=[goods.pk], warehouse_id=wh.pk)
        assert avail[goods.pk].incoming == 0

    def test_partly_received_keeps_what_came(self, confirmed, purchaser, goods, goods2):
        line = confirmed.lines.get(product=goods)
        services.purchase_order_receive(
            actor=purchaser, order_id=confirmed.pk, quantities={line.pk: "4"}
        )
        order = services.purchase_order_cancel(actor=purchaser, order_id=confirmed.pk)
        assert order.state == "processing"  # received part still to be billed
        assert order.receipt_status == "full"
        line.refresh_from_db()
        assert (line.received_quantity, line.cancelled_quantity) == (D("4"), D("6"))
        other = order.lines.get(product=goods2)
        assert other.cancelled_quantity == D("4")
        assert not Transfer.objects.filter(
            origin_id=order.pk, state="confirmed"
        ).exists()
        with pytest.raises(NothingToDo):  # nothing open is left
            services.purchase_order_receive(actor=purchaser, order_id=order.pk)

    def test_done_cannot_be_cancelled(self, purchaser, supplier, wh, goods):
        order = make_order(purchaser, supplier, wh, [(goods, 1, 1)])
        services.purchase_order_cancel(actor=purchaser, order_id=order.pk)
        with pytest.raises(BadState):
            services.purchase_order_cancel(actor=purchaser, order_id=order.pk)
