from django.contrib.auth import views as auth_views
from django.urls import include, path

from satu.core.auth import ThrottledAuthenticationForm
from satu.web import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=ThrottledAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("settings/modules/", views.feature_settings, name="feature_settings"),
    path("settings/modules/<str:code>/", views.feature_switch, name="feature_switch"),
    path("settings/custom-fields/", views.custom_field_list, name="custom_field_list"),
    path(
        "settings/custom-fields/new/",
        views.custom_field_create,
        name="custom_field_create",
    ),
    path(
        "settings/custom-fields/<int:field_id>/",
        views.custom_field_edit,
        name="custom_field_edit",
    ),
    path("settings/audit/", views.audit_list, name="audit_list"),
    path(
        "settings/documents/",
        views.document_template_list,
        name="document_template_list",
    ),
    path(
        "settings/documents/<str:code>/",
        views.document_template_edit,
        name="document_template_edit",
    ),
    path(
        "settings/documents/<str:code>/preview.pdf",
        views.document_template_preview,
        name="document_template_preview",
    ),
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.token_list, name="token_list"),
    path("profile/tokens/new/", views.token_create, name="token_create"),
    path(
        "profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"
    ),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("", include("satu.parties.urls")),
    path("", include("satu.parties.urls_io")),
    path("", include("satu.catalog.urls")),
    path("", include("satu.crm.urls")),
    path("", include("satu.inventory.urls")),
    path("", include("satu.billing.urls")),
    path("", include("satu.sales.urls")),
    path("", include("satu.purchasing.urls")),
]
