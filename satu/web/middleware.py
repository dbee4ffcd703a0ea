"""Login required everywhere except the few public paths; switched-off
features answer 404 before any view runs; a DomainError a view lets through
becomes an error page with its message and HTTP status."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from satu.core import features
from satu.core.errors import DomainError

PUBLIC_PREFIXES = (
    "/login/",
    "/static/",
    "/healthz",
    "/api/",
    "/i18n/",
    "/public/",
    "/calendar/",
)

_TITLES = {
    400: lambda: _("The request could not be processed"),
    403: lambda: _("Not allowed"),
    404: lambda: _("Not found"),
    409: lambda: _("Changed meanwhile"),
    422: lambda: _("Some fields are not valid"),
}


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
            return render(
                request, "web/feature_disabled.html", {"message": message}, status=404
            )
        if not path.startswith(PUBLIC_PREFIXES) and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        status = exception.http_status
        title = _TITLES.get(status, _TITLES[400])()
        message = str(exception)
        details = [m for messages in exception.fields.values() for m in messages]
        if details:
            message = " ".join([message, *details])
        return render(
            request,
            "web/error.html",
            {
                "status": status,
                "title": title,
                "message": message,
                "code": exception.code,
            },
            status=status,
        )
