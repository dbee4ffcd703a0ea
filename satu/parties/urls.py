from django.urls import path

from satu.parties import views, views_segments

urlpatterns = [
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("clients/<int:pk>/timeline/", views.client_timeline, name="client_timeline"),
    path("clients/<int:pk>/archive/", views.client_archive, name="client_archive"),
    path("clients/<int:pk>/merge/", views.client_merge, name="client_merge"),
    path(
        "clients/<int:pk>/merge/<int:other>/",
        views.client_merge_confirm,
        name="client_merge_confirm",
    ),
    path(
        "clients/<int:pk>/attachments/",
        views.client_attachment_add,
        name="client_attachment_add",
    ),
    path(
        "clients/<int:pk>/contacts/link/",
        views.client_contact_link,
        name="client_contact_link",
    ),
    path(
        "clients/<int:pk>/counterparties/link/",
        views.client_counterparty_link,
        name="client_counterparty_link",
    ),
    path(
        "clients/<int:pk>/counterparty-links/<int:link_id>/end/",
        views.client_counterparty_link_end,
        name="client_counterparty_link_end",
    ),
    path(
        "attachments/<int:pk>/download/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("counterparties/", views.counterparty_list, name="counterparty_list"),
    path("counterparties/new/", views.counterparty_create, name="counterparty_create"),
    path(
        "counterparties/<int:pk>/",
        views.counterparty_detail,
        name="counterparty_detail",
    ),
    path(
        "counterparties/<int:pk>/edit/",
        views.counterparty_edit,
        name="counterparty_edit",
    ),
    path(
        "counterparties/<int:pk>/bank-accounts/",
        views.counterparty_bank_account_add,
        name="counterparty_bank_account_add",
    ),
    # segments (CRM-8)
    path("segments/", views_segments.segment_list, name="segment_list"),
    path("segments/new/", views_segments.segment_create, name="segment_create"),
    path("segments/builder/", views_segments.segment_builder, name="segment_builder"),
    path("segments/<int:pk>/", views_segments.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", views_segments.segment_edit, name="segment_edit"),
    path(
        "segments/<int:pk>/recompute/",
        views_segments.segment_recompute,
        name="segment_recompute",
    ),
]
