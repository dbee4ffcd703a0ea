"""Login required everywhere except the few public paths; switched-off
features answer 404 before any view runs."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render

from satu.core import features

PUBLIC_PREFIXES = ("/login/", "/static/", "/healthz", "/api/", "/i18n/", "/public/")


class LoginRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        enabled = features.enabled_map()
        request.features = enabled
        disabled = features.feature_for_path(path, enabled)
        if disabled is not None:
            message = str(features.FeatureDisabled(disabled.code, disabled.label))
            if path.startswith("/api/"):
                return JsonResponse(
                    {"code": "feature_disabled", "detail": message, "fields": {}},
                    status=404,
                )
            return render(request, "web/feature_disabled.html",
                          {"message": message}, status=404)
        if not path.startswith(PUBLIC_PREFIXES) and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)
