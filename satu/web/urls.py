from django.contrib.auth import views as auth_views
from django.urls import include, path

from satu.core.auth import ThrottledAuthenticationForm
from satu.web import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(
        authentication_form=ThrottledAuthenticationForm,
        redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("", include("satu.parties.urls")),
    path("", include("satu.parties.urls_io")),
]
