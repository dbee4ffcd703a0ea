from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from satu.core import features

# (label, url name, feature code or None, permission or None). Later modules
# add their entries here; an entry whose feature is off is not shown.
NAVIGATION = [
    (_("Home"), "home", None, None),
    (_("Clients"), "client_list", None, "parties.view_client"),
    (_("Contacts"), "contact_list", "contacts", "parties.view_contact"),
    (
        _("Counterparties"),
        "counterparty_list",
        "counterparties",
        "parties.view_counterparty",
    ),
    (_("Leads"), "lead_list", "crm", "crm.view_lead"),
    (_("Deals"), "deal_board", "crm", "crm.view_deal"),
    (_("Claims"), "claim_list", "crm", "crm.view_claim"),
    (_("Tasks"), "task_list", "crm", "crm.view_task"),
    (_("Marketing"), "marketing_event_list", "crm", "crm.view_marketingevent"),
    (_("Products"), "product_list", "catalog", "catalog.view_product"),
    (_("Quotes"), "quote_list", "sales", "sales.view_quote"),
    (_("Sales orders"), "sales_order_list", "sales", "sales.view_salesorder"),
    (_("Stock"), "stock_list", "inventory", "inventory.view_stockmove"),
    (_("Transfers"), "transfer_list", "inventory", "inventory.view_transfer"),
    (
        _("Purchase orders"),
        "purchase_order_list",
        "purchasing",
        "purchasing.view_purchaseorder",
    ),
    (_("Invoices"), "invoice_list", "billing", "billing.view_invoice"),
    (_("Payments"), "payment_list", "billing", "billing.view_payment"),
]
SETTINGS_NAVIGATION = [
    (_("Modules"), "feature_settings", None, "core.change_featuretoggle"),
    (_("Custom fields"), "custom_field_list", None, "core.add_customfield"),
    (_("Users and roles"), "user_list", None, "core.view_user"),
    (_("Audit trail"), "audit_list", None, "core.view_auditentry"),
    (_("Documents"), "document_template_list", None, "core.change_systemflag"),
    (_("CRM settings"), "crm_settings", "crm", "crm.change_dealkind"),
    (
        _("Cash accounts and payment purposes"),
        "cash_account_list",
        "billing",
        "billing.view_cashaccount",
    ),
    (_("Taxes"), "tax_rule_list", "catalog", "catalog.view_taxrule"),
]


def _entries(request, entries):
    enabled = getattr(request, "features", None) or features.enabled_map()
    user = request.user
    path = request.path
    items = []
    for label, name, feature, perm in entries:
        if feature is not None and not enabled.get(feature, True):
            continue
        if perm is not None and not user.has_perm(perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            # A module whose screens are not installed yet simply has no entry.
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "name": name, "active": active})
    return items


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "nav_items": _entries(request, NAVIGATION),
        "settings_items": _entries(request, SETTINGS_NAVIGATION),
        "features_enabled": getattr(request, "features", {}),
    }
