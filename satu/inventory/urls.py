from django.urls import path

from satu.inventory import views

urlpatterns = [
    path("stock/", views.stock_list, name="stock_list"),
    path("stock/export.<str:fmt>", views.stock_export, name="stock_export"),
    path("stock/product/<int:pk>/", views.stock_product, name="stock_product"),
    path("stock/move/", views.location_move, name="location_move"),
    path("stock/lots/expiring/", views.expiring_lots, name="expiring_lots"),
    path(
        "stock/lots/expiring/export.<str:fmt>",
        views.expiring_lots_export,
        name="expiring_lots_export",
    ),
    path("stock/lots/available/", views.lot_suggestions, name="lot_suggestions"),
    path("stock/lots/<int:pk>/", views.lot_detail, name="lot_detail"),
    path("warehouses/", views.warehouse_list, name="warehouse_list"),
    path("warehouses/<int:pk>/", views.warehouse_detail, name="warehouse_detail"),
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/new/", views.transfer_create, name="transfer_create"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path(
        "transfers/<int:pk>/<str:action>/",
        views.transfer_action,
        name="transfer_action",
    ),
    path("inventory-counts/", views.count_list, name="count_list"),
    path("inventory-counts/<int:pk>/", views.count_detail, name="count_detail"),
]
