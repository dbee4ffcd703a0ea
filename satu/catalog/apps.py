from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "satu.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from satu.catalog import queries
        from satu.catalog.models import PriceList, Product
        from satu.core import access, custom_fields, features, roles

        features.register(
            "catalog",
            _("Catalog and prices"),
            description=_(
                "Products, units of measure, categories and price lists with "
                "quantity breaks and discounts."
            ),
            web_prefixes=("/products/", "/price-lists/"),
            api_prefixes=(
                "/api/v1/products",
                "/api/v1/units",
                "/api/v1/product-categories",
                "/api/v1/price-lists",
            ),
        )
        custom_fields.register_object_type("catalog.product", _("Product"))
        access.register(
            "catalog.product",
            Product,
            queries.products_visible_to,
            change_perm="catalog.change_product",
        )
        access.register(
            "catalog.price_list",
            PriceList,
            queries.price_lists_visible_to,
            change_perm="catalog.change_pricelist",
        )

        viewing = [
            "catalog.view_product",
            "catalog.view_unit",
            "catalog.view_category",
            "catalog.view_pricelist",
        ]
        editing = viewing + [
            "catalog.add_product",
            "catalog.change_product",
            "catalog.add_unit",
            "catalog.add_category",
        ]
        pricing = ["catalog.add_pricelist", "catalog.change_pricelist"]
        roles.grant(roles.SALES_MANAGER, viewing)
        roles.grant(roles.MARKETER, viewing)
        roles.grant(roles.DIRECTOR, viewing)
        roles.grant(roles.ACCOUNTANT, viewing)
        roles.grant(roles.WAREHOUSE, editing)
        roles.grant(roles.HEAD_OF_SALES, editing + pricing)
        roles.grant(roles.ADMINISTRATOR, editing + pricing)
