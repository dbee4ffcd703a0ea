from django.urls import path

from satu.catalog import views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/export.<str:fmt>", views.product_export, name="product_export"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/units/", views.product_unit_add, name="product_unit_add"),
    path(
        "products/<int:pk>/components/",
        views.product_component_add,
        name="product_component_add",
    ),
    path("products/<int:pk>/archive/", views.product_archive, name="product_archive"),
    path("price-lists/", views.price_list_list, name="price_list_list"),
    path("price-lists/new/", views.price_list_create, name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", views.price_list_edit, name="price_list_edit"),
    path(
        "price-lists/<int:pk>/items/<int:item_id>/remove/",
        views.price_list_item_remove,
        name="price_list_item_remove",
    ),
    path("settings/taxes/", views.tax_rule_list, name="tax_rule_list"),
    path(
        "settings/taxes/<int:pk>/archive/",
        views.tax_rule_archive,
        name="tax_rule_archive",
    ),
]
