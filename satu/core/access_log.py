"""One structured log line per request: method, path, status, duration, user."""

import logging
import time

from django.utils.functional import empty

logger = logging.getLogger("satu.access")

# Probes hit these every few seconds; their lines only show at DEBUG.
QUIET_PATHS = ("/healthz", "/static/")


def _username(request) -> str | None:
    auth = getattr(request, "auth", None)
    if getattr(auth, "is_authenticated", False):
        return auth.get_username()
    user = getattr(request, "user", None)
    # Only a user some other layer already loaded: never an extra query here.
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is not empty and getattr(wrapped, "is_authenticated", False):
        return wrapped.get_username()
    return None


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        level = logging.DEBUG if request.path.startswith(QUIET_PATHS) else logging.INFO
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status_code": response.status_code,
                    "duration_ms": duration_ms,
                    "user": _username(request),
                },
            )
        return response
