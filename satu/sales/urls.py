from django.urls import path

from satu.sales import views

urlpatterns = [
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("quotes/<int:pk>/reject/", views.quote_reject, name="quote_reject"),
    path("quotes/<int:pk>/order/", views.quote_to_order, name="quote_to_order"),
    path("sales-orders/", views.sales_order_list, name="sales_order_list"),
    path("sales-orders/new/", views.sales_order_create, name="sales_order_create"),
    path("sales-orders/line-row/", views.line_row, name="sales_line_row"),
    path("sales-orders/preview/", views.lines_preview, name="sales_lines_preview"),
    path("sales-orders/<int:pk>/", views.sales_order_detail, name="sales_order_detail"),
    path(
        "sales-orders/<int:pk>/edit/", views.sales_order_edit, name="sales_order_edit"
    ),
    path(
        "sales-orders/<int:pk>/confirm/",
        views.sales_order_confirm,
        name="sales_order_confirm",
    ),
    path(
        "sales-orders/<int:pk>/reschedule/",
        views.sales_order_reschedule,
        name="sales_order_reschedule",
    ),
    path(
        "sales-orders/<int:pk>/ship/", views.sales_order_ship, name="sales_order_ship"
    ),
    path(
        "sales-orders/<int:pk>/invoice/",
        views.sales_order_invoice,
        name="sales_order_invoice",
    ),
    path(
        "sales-orders/<int:pk>/cancel/",
        views.sales_order_cancel,
        name="sales_order_cancel",
    ),
    path("assortment/", views.assortment_list, name="assortment_list"),
    path(
        "assortment/<int:pk>/remove/", views.assortment_remove, name="assortment_remove"
    ),
]
