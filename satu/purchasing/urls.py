from django.urls import path

from satu.purchasing import views

urlpatterns = [
    path("purchase-orders/", views.purchase_order_list, name="purchase_order_list"),
    path(
        "purchase-orders/new/",
        views.purchase_order_create,
        name="purchase_order_create",
    ),
    path(
        "purchase-orders/line-row/",
        views.purchase_order_line_row,
        name="purchase_order_line_row",
    ),
    path(
        "purchase-orders/<int:pk>/",
        views.purchase_order_detail,
        name="purchase_order_detail",
    ),
    path(
        "purchase-orders/<int:pk>/edit/",
        views.purchase_order_edit,
        name="purchase_order_edit",
    ),
    path(
        "purchase-orders/<int:pk>/confirm/",
        views.purchase_order_confirm,
        name="purchase_order_confirm",
    ),
    path(
        "purchase-orders/<int:pk>/receive/",
        views.purchase_order_receive,
        name="purchase_order_receive",
    ),
    path(
        "purchase-orders/<int:pk>/bill/",
        views.purchase_order_bill,
        name="purchase_order_bill",
    ),
    path(
        "purchase-orders/<int:pk>/cancel/",
        views.purchase_order_cancel,
        name="purchase_order_cancel",
    ),
    path("supplier-prices/", views.supplier_price_list, name="supplier_price_list"),
    path(
        "supplier-prices/new/",
        views.supplier_price_form,
        name="supplier_price_create",
    ),
    path(
        "supplier-prices/<int:pk>/edit/",
        views.supplier_price_form,
        name="supplier_price_edit",
    ),
    path("supplier-prices/suppliers/", views.supplier_list, name="supplier_list"),
    path("reorder/", views.reorder, name="reorder"),
    path("reorder/points/", views.reorder_point_list, name="reorder_point_list"),
    path(
        "reorder/points/new/",
        views.reorder_point_form,
        name="reorder_point_create",
    ),
    path(
        "reorder/points/<int:pk>/edit/",
        views.reorder_point_form,
        name="reorder_point_edit",
    ),
]
