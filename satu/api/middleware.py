"""Refuse API input that no database column can store.

PostgreSQL text cannot hold the NUL character, which JSON can carry as
`\\u0000` and a query string as `%00`; SQLite stores it silently. Refusing it
here, before any endpoint runs, gives every endpoint the same clear 422 on
both databases instead of a 500 deep inside a query.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and self._has_nul(request):
            return JsonResponse(
                {
                    "code": "validation_error",
                    "detail": _("Text may not contain the NUL character."),
                    "fields": {},
                },
                status=422,
            )
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values)
            for key, values in request.GET.lists()
        ):
            return True
        if request.method in ("POST", "PUT", "PATCH") and (
            request.content_type == "application/json"
        ):
            return b"\\u0000" in request.body
        return False
