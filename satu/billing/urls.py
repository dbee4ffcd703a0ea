"""Contracts, customer and supplier invoices, credit notes, payments, bank
accounts and cash desks, receivables and payables (SAL-4).
See docs/domains/billing.md."""

from django.urls import path

from satu.billing import views

urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/post/", views.invoice_post, name="invoice_post"),
    path("invoices/<int:pk>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("invoices/<int:pk>/delete/", views.invoice_delete, name="invoice_delete"),
    path("invoices/<int:pk>/credit/", views.invoice_credit, name="invoice_credit"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/send/", views.invoice_send, name="invoice_send"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/new/", views.payment_create, name="payment_create"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path(
        "payments/<int:pk>/allocate/", views.payment_allocate, name="payment_allocate"
    ),
    path(
        "payments/<int:pk>/deallocate/<int:invoice_id>/",
        views.payment_deallocate,
        name="payment_deallocate",
    ),
    path("payments/<int:pk>/cancel/", views.payment_cancel, name="payment_cancel"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/new/", views.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("receivables/", views.receivables, name="receivables"),
    path("cash-accounts/", views.cash_account_list, name="cash_account_list"),
    path(
        "cash-accounts/<int:pk>/toggle/",
        views.cash_account_toggle,
        name="cash_account_toggle",
    ),
    path(
        "settings/payment-purposes/",
        views.payment_purpose_list,
        name="payment_purpose_list",
    ),
    path(
        "settings/payment-purposes/<int:pk>/toggle/",
        views.payment_purpose_toggle,
        name="payment_purpose_toggle",
    ),
    path("bank-statements/", views.bank_statement_list, name="bank_statement_list"),
    path(
        "bank-statements/import/",
        views.bank_statement_import,
        name="bank_statement_import",
    ),
]
