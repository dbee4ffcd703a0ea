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
