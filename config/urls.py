from django.urls import include, path

from satu.core.health import healthz

urlpatterns = [
    # Normally answered by HealthCheckMiddleware before this resolver runs.
    path("healthz", healthz, name="healthz"),
    path("api/", include("satu.api.urls")),
    path("", include("satu.web.urls")),
]
