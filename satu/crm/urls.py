from django.urls import path

from satu.crm import views

urlpatterns = [
    path("deals/", views.deal_board, name="deal_board"),
    path("deals/list/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path(
        "deals/<int:pk>/approve/<int:rule_id>/",
        views.deal_approve,
        name="deal_approve",
    ),
    path(
        "deals/<int:pk>/files/", views.deal_attachment_add, name="deal_attachment_add"
    ),
    path("deals/<int:pk>/win/", views.deal_win, name="deal_win"),
    path("deals/<int:pk>/lose/", views.deal_lose, name="deal_lose"),
    path("deals/<int:pk>/reopen/", views.deal_reopen, name="deal_reopen"),
    path("interactions/", views.interaction_list, name="interaction_list"),
    path("interactions/new/", views.interaction_create, name="interaction_create"),
    path("interactions/<int:pk>/", views.interaction_detail, name="interaction_detail"),
    path(
        "interactions/<int:pk>/complete/",
        views.interaction_close,
        {"action": "complete"},
        name="interaction_complete",
    ),
    path(
        "interactions/<int:pk>/cancel/",
        views.interaction_close,
        {"action": "cancel"},
        name="interaction_cancel",
    ),
]

# ---------------------------------------------------------------- tasks (CRM-5)
urlpatterns += [
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/calendar/", views.task_calendar, name="task_calendar"),
    path(
        "tasks/calendar-links/new/",
        views.calendar_feed_create,
        name="calendar_feed_create",
    ),
    path(
        "tasks/calendar-links/<int:feed_id>/revoke/",
        views.calendar_feed_revoke,
        name="calendar_feed_revoke",
    ),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path(
        "tasks/<int:pk>/complete/",
        views.task_close,
        {"action": "complete"},
        name="task_complete",
    ),
    path(
        "tasks/<int:pk>/cancel/",
        views.task_close,
        {"action": "cancel"},
        name="task_cancel",
    ),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]

# ---------------------------------------------------------------- claims (CRM-7)
urlpatterns += [
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/new/", views.claim_create, name="claim_create"),
    path("claims/stats/", views.claim_stats, name="claim_stats"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path(
        "claims/<int:pk>/transition/",
        views.claim_transition,
        name="claim_transition",
    ),
]

# ------------------------------------ leads, marketing, ROI (CRM-3/4/6, P6)
from satu.crm import views_marketing as mk  # noqa: E402

urlpatterns += [
    path("leads/", mk.lead_list, name="lead_list"),
    path("leads/new/", mk.lead_create, name="lead_create"),
    path("leads/import/", mk.lead_import, name="lead_import"),
    path("leads/forms/", mk.lead_form_list, name="lead_form_list"),
    path("leads/forms/<int:pk>/toggle/", mk.lead_form_toggle, name="lead_form_toggle"),
    path("leads/<int:pk>/", mk.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", mk.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/qualify/", mk.lead_qualify, name="lead_qualify"),
    path("leads/<int:pk>/disqualify/", mk.lead_disqualify, name="lead_disqualify"),
    path("public/lead-form/<slug:key>/", mk.public_lead_form, name="public_lead_form"),
    path(
        "public/lead-form/<slug:key>/thanks/",
        mk.public_lead_thanks,
        name="public_lead_thanks",
    ),
    path("marketing/events/", mk.marketing_event_list, name="marketing_event_list"),
    path(
        "marketing/events/new/",
        mk.marketing_event_create,
        name="marketing_event_create",
    ),
    path(
        "marketing/events/<int:pk>/",
        mk.marketing_event_detail,
        name="marketing_event_detail",
    ),
    path(
        "marketing/events/<int:pk>/edit/",
        mk.marketing_event_edit,
        name="marketing_event_edit",
    ),
    path(
        "marketing/events/<int:pk>/costs/",
        mk.marketing_event_cost_add,
        name="marketing_event_cost_add",
    ),
    path(
        "marketing/events/<int:pk>/participants/",
        mk.marketing_event_participant_add,
        name="marketing_event_participant_add",
    ),
    path(
        "marketing/events/<int:pk>/participants/<int:participant_id>/status/",
        mk.marketing_participant_status,
        name="marketing_participant_status",
    ),
    path(
        "marketing/costs/<int:cost_id>/delete/",
        mk.marketing_cost_delete,
        name="marketing_cost_delete",
    ),
    path(
        "marketing/channels/",
        mk.marketing_channel_list,
        name="marketing_channel_list",
    ),
    path(
        "marketing/channels/<int:pk>/",
        mk.marketing_channel_detail,
        name="marketing_channel_detail",
    ),
    path("marketing/roi/", mk.marketing_roi, name="marketing_roi"),
    path("deals/<int:pk>/lines/", mk.deal_lines, name="deal_lines"),
    path(
        "deals/<int:pk>/lines/<int:line_id>/remove/",
        mk.deal_line_remove,
        name="deal_line_remove",
    ),
    path(
        "deals/<int:pk>/lines/<int:line_id>/unmet/",
        mk.deal_line_unmet,
        name="deal_line_unmet",
    ),
]

# ---------------------------------------------- CRM configuration (/settings/crm/)
from satu.crm import views_settings  # noqa: E402

urlpatterns += [
    path("settings/crm/", views_settings.crm_settings, name="crm_settings"),
    path(
        "settings/crm/kinds/new/",
        views_settings.deal_kind_add,
        name="crm_settings_kind_add",
    ),
    path(
        "settings/crm/kinds/<int:pk>/",
        views_settings.deal_kind_edit,
        name="crm_settings_kind",
    ),
    path(
        "settings/crm/<slug:slug>/",
        views_settings.reference_list,
        name="crm_settings_reference",
    ),
]

# ---------------------------------------------- interaction edit (calendar day view
# lives on /tasks/calendar/?view=day)
from satu.crm import views_calendar  # noqa: E402

urlpatterns += [
    path(
        "interactions/<int:pk>/edit/",
        views_calendar.interaction_edit,
        name="interaction_edit",
    ),
]
