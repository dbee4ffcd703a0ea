from django.urls import path

from satu.parties import views_io

urlpatterns = [
    path("clients/export.<str:fmt>", views_io.client_export, name="client_export"),
    path("contacts/export.<str:fmt>", views_io.contact_export, name="contact_export"),
    path(
        "counterparties/export.<str:fmt>",
        views_io.counterparty_export,
        name="counterparty_export",
    ),
    path("contacts/<int:pk>/vcard", views_io.contact_vcard, name="contact_vcard"),
    path("clients/import/", views_io.client_import, name="client_import"),
    path("contacts/import/", views_io.contact_import, name="contact_import"),
    path("imports/<int:job_id>/", views_io.import_result, name="import_result"),
]
