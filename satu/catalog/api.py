"""REST endpoints of the catalog (under /api/v1/): units, product
categories, products with conversions and kit components, price lists with
their items, and the price a client gets with its explanation.

Units are referred to by code ("pcs"); money and quantities travel as
decimal strings. Endpoints parse, call `services`/`queries`, and shape.
"""

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from satu.catalog import queries, services
from satu.core.errors import PermissionDenied
from satu.parties import queries as parties_queries
from satu.parties.api import CUSTOM_DOC, CustomValue

router = Router(tags=["catalog"])

Kind = Literal["goods", "service", "kit"]
Tracking = Literal["none", "lot", "serial"]
DecimalIn = Annotated[
    Decimal, Field(description="A decimal number, best sent as a string.")
]


def _optional_id(**extra):
    return Field(None, ge=1, le=2**63 - 1, **extra)


def _plain(value) -> str | None:
    return None if value is None else queries.plain(value)


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied()


# ------------------------------------------------------------------ schemas


class UnitOut(Schema):
    code: str
    name: str
    is_active: bool


class UnitIn(Schema):
    code: str = Field(min_length=1, max_length=16, examples=["box"])
    name: str = Field(min_length=1, max_length=64, examples=["Box"])


class CategoryOut(Schema):
    id: int
    name: str
    full_name: str = Field(description="“Parent / child” for a sub-category.")
    parent_id: int | None

    @staticmethod
    def resolve_full_name(obj) -> str:
        return str(obj)


class CategoryIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = _optional_id()


class CategoryRef(Schema):
    id: int
    full_name: str

    @staticmethod
    def resolve_full_name(obj) -> str:
        return str(obj)


class ConversionOut(Schema):
    unit: str
    factor: str = Field(description="Base units in one of this unit.")

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_factor(obj) -> str:
        return queries.plain(obj.factor)


class ConversionIn(Schema):
    unit: str = Field(min_length=1, max_length=16, examples=["box"])
    factor: DecimalIn = Field(examples=["12"])


class ComponentOut(Schema):
    product_id: int
    sku: str
    name: str
    quantity: str
    unit: str

    @staticmethod
    def resolve_product_id(obj) -> int:
        return obj.component_id

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.component.sku

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.component.name

    @staticmethod
    def resolve_quantity(obj) -> str:
        return queries.plain(obj.quantity)

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.component.base_unit.code


class ComponentIn(Schema):
    product_id: int = Field(ge=1, le=2**63 - 1)
    quantity: DecimalIn = Field(description="In the component's base unit.")


class ComponentsIn(Schema):
    components: list[ComponentIn] = Field(max_length=200)


class ProductListOut(Schema):
    id: int
    sku: str
    name: str
    kind: Kind
    base_unit: str
    category: CategoryRef | None
    barcode: str
    tracking: Tracking
    tax_category: str
    costing_method: Literal["average", "fifo"]
    cost_price: str = Field(description="Standard cost per base unit.")
    is_active: bool
    custom: dict[str, CustomValue] = Field(description=CUSTOM_DOC)
    version: int

    @staticmethod
    def resolve_base_unit(obj) -> str:
        return obj.base_unit.code

    @staticmethod
    def resolve_cost_price(obj) -> str:
        return queries.plain(obj.cost_price) if obj.cost_price else "0"


class ProductOut(ProductListOut):
    description: str
    units: list[ConversionOut]
    components: list[ComponentOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_units(obj) -> list:
        return list(obj.units.all())

    @staticmethod
    def resolve_components(obj) -> list:
        return list(obj.components.all())


class ProductIn(Schema):
    sku: str = Field(min_length=1, max_length=64, examples=["TEH-500"])
    name: str = Field(min_length=1, max_length=200, examples=["Teh Botol 500 ml"])
    kind: Kind = "goods"
    base_unit: str = Field(min_length=1, max_length=16, examples=["pcs"])
    category_id: int | None = _optional_id()
    barcode: str = Field("", max_length=32, description="EAN-8/13 or GTIN-14.")
    tracking: Tracking = "none"
    tax_category: str = Field("", max_length=32)
    description: str = Field("", max_length=10000)
    costing_method: Literal["average", "fifo"] = "average"
    cost_price: DecimalIn = Field(Decimal(0), description="At most 4 decimals.")
    units: list[ConversionIn] = Field(default_factory=list, max_length=20)
    custom: dict[str, CustomValue] = Field(default_factory=dict, description=CUSTOM_DOC)


class ProductPatch(Schema):
    sku: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: Kind | None = None
    base_unit: str | None = Field(None, min_length=1, max_length=16)
    category_id: int | None = _optional_id()
    barcode: str | None = Field(None, max_length=32)
    tracking: Tracking | None = None
    tax_category: str | None = Field(None, max_length=32)
    description: str | None = Field(None, max_length=10000)
    costing_method: Literal["average", "fifo"] | None = None
    cost_price: DecimalIn | None = None
    custom: dict[str, CustomValue] | None = Field(None, description=CUSTOM_DOC)
    version: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="The version read; a stale one answers 409 version_conflict.",
    )


class ProductFilters(Schema):
    search: str = Field("", max_length=200, description="SKU, name or barcode.")
    category_id: int | None = _optional_id(description="Includes sub-categories.")
    kind: Kind | None = None
    archived: bool = False


class PriceParams(Schema):
    client_id: int | None = _optional_id(description="Default: no client (retail).")
    quantity: str = Field("1", max_length=32)
    unit: str | None = Field(None, max_length=16, description="Default: base unit.")
    date: dt.date | None = Field(None, description="Default: today.")
    currency: str = Field("IDR", max_length=3)


class PriceListRef(Schema):
    id: int
    name: str


class PriceOut(Schema):
    price: str = Field(description="Per unit, after discount, rounded.")
    gross_price: str = Field(description="Per unit, before discount.")
    discount_percent: str
    currency: str
    quantity: str
    unit: str
    total: str
    price_list: PriceListRef
    min_quantity: str = Field(description="The quantity break applied.")
    break_unit: str
    explanation: str = Field(
        examples=["Price list Wholesale 2026, break 100+, discount 5 %"]
    )


class GroupRef(Schema):
    id: int
    name: str


class PriceListOut(Schema):
    id: int
    name: str
    client_group: GroupRef | None
    currency: str
    valid_from: date | None
    valid_to: date | None
    priority: int
    discount_percent: str
    is_active: bool
    version: int

    @staticmethod
    def resolve_discount_percent(obj) -> str:
        return queries.plain(obj.discount_percent)


class PriceListIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["Wholesale 2026"])
    currency: str = Field("IDR", min_length=3, max_length=3)
    client_group_id: int | None = _optional_id(description="None: every client.")
    valid_from: date | None = None
    valid_to: date | None = None
    priority: int = Field(0, ge=-1_000_000, le=1_000_000)
    discount_percent: DecimalIn = Field(Decimal(0), ge=0, le=100)
    is_active: bool = True


class PriceListPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    currency: str | None = Field(None, min_length=3, max_length=3)
    client_group_id: int | None = _optional_id()
    valid_from: date | None = None
    valid_to: date | None = None
    priority: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    discount_percent: DecimalIn | None = Field(None, ge=0, le=100)
    is_active: bool | None = None
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class PriceItemOut(Schema):
    id: int
    product_id: int
    sku: str
    product_name: str
    unit: str
    min_quantity: str
    price: str
    discount_percent: str | None

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.name

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_min_quantity(obj) -> str:
        return queries.plain(obj.min_quantity)

    @staticmethod
    def resolve_price(obj) -> str:
        return queries.plain(obj.price)

    @staticmethod
    def resolve_discount_percent(obj) -> str | None:
        return _plain(obj.discount_percent)


class PriceItemIn(Schema):
    product_id: int = Field(ge=1, le=2**63 - 1)
    unit: str | None = Field(None, max_length=16, description="Default: base unit.")
    min_quantity: DecimalIn = Field(Decimal(1), description="The quantity break.")
    price: DecimalIn = Field(description="At most the currency's decimals.")
    discount_percent: DecimalIn | None = Field(
        None, description="Replaces the list's discount for this price."
    )


# ------------------------------------------------------------------ units, categories


@router.get("/units", response=list[UnitOut])
@paginate
def list_units(request):
    _require(request.auth, "catalog.view_product")
    return queries.units(active_only=False)


@router.post("/units", response={201: UnitOut})
def post_unit(request, payload: UnitIn):
    return Status(201, services.unit_create(actor=request.auth, **payload.model_dump()))


@router.get("/product-categories", response=list[CategoryOut])
@paginate
def list_product_categories(request):
    _require(request.auth, "catalog.view_product")
    return queries.categories()


@router.post("/product-categories", response={201: CategoryOut})
def post_product_category(request, payload: CategoryIn):
    category = services.category_create(actor=request.auth, **payload.model_dump())
    return Status(201, category)


# ------------------------------------------------------------------ products


@router.get("/products", response=list[ProductListOut])
@paginate
def list_products(request, filters: Query[ProductFilters]):
    """Products by name. `search` matches SKU or name (substring) or the
    exact barcode; custom fields filter as `cf_<code>=value`."""
    _require(request.auth, "catalog.view_product")
    custom = {k: v for k, v in request.GET.items() if k.startswith("cf_")}
    return queries.product_list(
        actor=request.auth,
        search=filters.search,
        category_id=filters.category_id,
        kind=filters.kind or "",
        archived=filters.archived,
        custom=custom,
    )


@router.post("/products", response={201: ProductOut})
def post_product(request, payload: ProductIn):
    """Create a product; `units` adds conversions (1 box = 12 base units)."""
    data = payload.model_dump()
    product = services.product_create(actor=request.auth, **data)
    return Status(201, queries.product_get(actor=request.auth, product_id=product.pk))


@router.get("/products/{product_id}", response=ProductOut)
def get_product(request, product_id: int):
    return queries.product_get(actor=request.auth, product_id=product_id)


@router.patch("/products/{product_id}", response=ProductOut)
def patch_product(request, product_id: int, payload: ProductPatch):
    """Change the fields given; with `version`, a concurrent change answers
    409 `version_conflict`."""
    services.product_update(
        actor=request.auth,
        product_id=product_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.product_get(actor=request.auth, product_id=product_id)


@router.post("/products/{product_id}/archive", response=ProductOut)
def archive_product(request, product_id: int):
    services.product_archive(actor=request.auth, product_id=product_id)
    return queries.product_get(actor=request.auth, product_id=product_id)


@router.post("/products/{product_id}/restore", response=ProductOut)
def restore_product(request, product_id: int):
    services.product_archive(actor=request.auth, product_id=product_id, archived=False)
    return queries.product_get(actor=request.auth, product_id=product_id)


@router.post("/products/{product_id}/units", response={201: ProductOut})
def post_product_unit(request, product_id: int, payload: ConversionIn):
    """Add or change a unit conversion of the product."""
    services.product_unit_set(
        actor=request.auth, product_id=product_id, **payload.model_dump()
    )
    return Status(201, queries.product_get(actor=request.auth, product_id=product_id))


@router.put("/products/{product_id}/components", response=ProductOut)
def put_product_components(request, product_id: int, payload: ComponentsIn):
    """Replace a kit's components."""
    services.kit_components_set(
        actor=request.auth,
        product_id=product_id,
        components=payload.model_dump()["components"],
    )
    return queries.product_get(actor=request.auth, product_id=product_id)


def quote_out(result) -> dict:
    return {
        "price": queries.plain(result.price) if result.price else "0",
        "gross_price": queries.plain(result.gross_price) if result.gross_price else "0",
        "discount_percent": queries.plain(result.discount_percent),
        "currency": result.currency,
        "quantity": queries.plain(result.quantity),
        "unit": result.unit,
        "total": queries.plain(result.total) if result.total else "0",
        "price_list": {"id": result.price_list_id, "name": result.price_list_name},
        "min_quantity": queries.plain(result.min_quantity),
        "break_unit": result.break_unit,
        "explanation": result.explanation,
    }


@router.get("/products/{product_id}/price", response=PriceOut)
def get_product_price(request, product_id: int, params: Query[PriceParams]):
    """The price `client_id` pays for `quantity` `unit` on `date` in
    `currency`, with the explanation ("Price list Wholesale 2026, break
    100+, discount 5 %"). No price answers 404 `catalog.no_price`."""
    _require(request.auth, "catalog.view_pricelist")
    product = queries.product_get(actor=request.auth, product_id=product_id)
    client = None
    if params.client_id is not None:
        client = parties_queries.client_get(
            actor=request.auth, client_id=params.client_id
        )
    result = queries.price_for(
        client=client,
        product=product,
        quantity=params.quantity,
        unit=params.unit,
        on_date=params.date or timezone.localdate(),
        currency=params.currency,
    )
    return quote_out(result)


# ------------------------------------------------------------------ price lists


@router.get("/price-lists", response=list[PriceListOut])
@paginate
def list_price_lists(request, search: str = "", currency: str = ""):
    _require(request.auth, "catalog.view_pricelist")
    return queries.price_list_list(
        actor=request.auth, search=search[:100], currency=currency[:3]
    )


@router.post("/price-lists", response={201: PriceListOut})
def post_price_list(request, payload: PriceListIn):
    price_list = services.price_list_create(actor=request.auth, **payload.model_dump())
    return Status(
        201, queries.price_list_get(actor=request.auth, price_list_id=price_list.pk)
    )


@router.get("/price-lists/{price_list_id}", response=PriceListOut)
def get_price_list(request, price_list_id: int):
    return queries.price_list_get(actor=request.auth, price_list_id=price_list_id)


@router.patch("/price-lists/{price_list_id}", response=PriceListOut)
def patch_price_list(request, price_list_id: int, payload: PriceListPatch):
    services.price_list_update(
        actor=request.auth,
        price_list_id=price_list_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.price_list_get(actor=request.auth, price_list_id=price_list_id)


@router.get("/price-lists/{price_list_id}/items", response=list[PriceItemOut])
@paginate
def list_price_list_items(request, price_list_id: int):
    price_list = queries.price_list_get(actor=request.auth, price_list_id=price_list_id)
    return queries.price_list_items(price_list=price_list)


@router.post("/price-lists/{price_list_id}/items", response={201: PriceItemOut})
def post_price_list_item(request, price_list_id: int, payload: PriceItemIn):
    """Set a price (a quantity break); the same product, unit and break
    again replaces the price."""
    item = services.price_list_item_set(
        actor=request.auth, price_list_id=price_list_id, **payload.model_dump()
    )
    return Status(201, item)


@router.delete("/price-lists/{price_list_id}/items/{item_id}", response={204: None})
def delete_price_list_item(request, price_list_id: int, item_id: int):
    services.price_list_item_remove(
        actor=request.auth, price_list_id=price_list_id, item_id=item_id
    )
    return Status(204, None)


# ------------------------------------------------------------------ tax rules


AppliesTo = Literal["sales", "purchases", "both"]


class TaxRuleOut(Schema):
    id: int
    name: str
    rate: str
    inclusive: bool
    applies_to: AppliesTo
    tax_category: str
    category: CategoryRef | None
    valid_from: date | None
    valid_to: date | None
    is_active: bool

    @staticmethod
    def resolve_rate(obj) -> str:
        return queries.plain(obj.rate)


class TaxRuleIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["PPN 11 %"])
    rate: DecimalIn = Field(examples=["11"])
    inclusive: bool = False
    applies_to: AppliesTo = "both"
    tax_category: str = Field("", max_length=32)
    category_id: int | None = _optional_id()
    valid_from: date | None = None
    valid_to: date | None = None


class TaxRulePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    rate: DecimalIn | None = None
    inclusive: bool | None = None
    applies_to: AppliesTo | None = None
    tax_category: str | None = Field(None, max_length=32)
    category_id: int | None = _optional_id()
    valid_from: date | None = None
    valid_to: date | None = None


@router.get("/tax-rules", response=list[TaxRuleOut])
@paginate
def list_tax_rules(request, archived: bool = False):
    """Tax rules by name (documents copy a rule's rate onto their lines)."""
    return queries.tax_rule_list(actor=request.auth, archived=archived)


@router.post("/tax-rules", response={201: TaxRuleOut})
def post_tax_rule(request, payload: TaxRuleIn):
    rule = services.tax_rule_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.tax_rule_get(actor=request.auth, tax_rule_id=rule.pk))


@router.get("/tax-rules/{tax_rule_id}", response=TaxRuleOut)
def get_tax_rule(request, tax_rule_id: int):
    return queries.tax_rule_get(actor=request.auth, tax_rule_id=tax_rule_id)


@router.patch("/tax-rules/{tax_rule_id}", response=TaxRuleOut)
def patch_tax_rule(request, tax_rule_id: int, payload: TaxRulePatch):
    services.tax_rule_update(
        actor=request.auth,
        tax_rule_id=tax_rule_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.tax_rule_get(actor=request.auth, tax_rule_id=tax_rule_id)


@router.post("/tax-rules/{tax_rule_id}/archive", response=TaxRuleOut)
def archive_tax_rule(request, tax_rule_id: int):
    services.tax_rule_archive(actor=request.auth, tax_rule_id=tax_rule_id)
    return queries.tax_rule_get(actor=request.auth, tax_rule_id=tax_rule_id)
