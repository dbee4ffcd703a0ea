from django.urls import include, path

urlpatterns = [
    path("api/", include("satu.api.urls")),
    path("", include("satu.web.urls")),
]
