"""URLs under /api/: the NinjaAPI, and JSON errors for what it does not
route itself (an unknown path, a method the path does not take), so an API
client never gets an HTML page."""

from functools import wraps

from django.http import HttpResponseNotAllowed, JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from satu.api.errors import error_body
from satu.api.main import api


def _json_not_allowed(view):
    @wraps(view)  # keeps ninja's csrf_exempt mark
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = JsonResponse(
                error_body(
                    "method_not_allowed",
                    _("This address does not take %(method)s; it takes %(allowed)s.")
                    % {"method": request.method, "allowed": allowed},
                ),
                status=405,
            )
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt  # nothing to protect; a POST to a wrong address gets JSON too
def not_found(request, rest=""):
    return JsonResponse(
        error_body("not_found", _("There is no API endpoint at this address.")),
        status=404,
    )


_patterns, _app_name, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = _json_not_allowed(_pattern.callback)

urlpatterns = [
    path("", (_patterns, _app_name, _namespace)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
