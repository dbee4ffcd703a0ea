"""Product list export (CSV, XLSX) through satu.core.exports, filtered like
the list."""

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from satu.catalog import queries
from satu.catalog.models import Product
from satu.core import custom_fields, features
from satu.core.errors import PermissionDenied
from satu.core.exports import FORMATS, Column, UnknownFormat, export_response, iterate


def _label(field: str) -> str:
    return capfirst(str(Product._meta.get_field(field).verbose_name))


def product_columns() -> list[Column]:
    kinds = dict(Product.Kind.choices)
    tracking = dict(Product.Tracking.choices)
    return [
        ("ID", lambda p: p.pk),
        (_label("sku"), lambda p: p.sku),
        (_label("name"), lambda p: p.name),
        (_label("kind"), lambda p: str(kinds.get(p.kind, p.kind))),
        (_label("base_unit"), lambda p: p.base_unit.code),
        (_label("category"), lambda p: str(p.category) if p.category_id else ""),
        (_label("barcode"), lambda p: p.barcode),
        (_label("tracking"), lambda p: str(tracking.get(p.tracking, p.tracking))),
        (_label("tax_category"), lambda p: p.tax_category),
        (_label("is_active"), lambda p: p.is_active),
        *[
            (d.label, lambda p, d=d: (p.custom or {}).get(d.code))
            for d in custom_fields.definitions("catalog.product")
        ],
    ]


def export(*, actor, fmt: str, filters: dict):
    """The product list (`queries.product_list` filters) as `fmt` (csv, xlsx).

    Raises PermissionDenied without catalog.view_product, FeatureDisabled,
    UnknownFormat, ValidationFailed for malformed custom field filters."""
    if not actor.has_perm("catalog.view_product"):
        raise PermissionDenied()
    features.require("catalog")
    if fmt not in FORMATS:
        raise UnknownFormat(
            _("Unknown export format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt}
        )
    rows = iterate(queries.product_list(actor=actor, **filters))
    stamp = timezone.localdate().isoformat()
    return export_response(
        fmt, rows, product_columns(), f"products-{stamp}", title=_("Products")
    )
