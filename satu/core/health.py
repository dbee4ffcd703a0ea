"""GET /healthz: database and worker status for load balancers and monitors.

Public (no login). 200 when the database answers, 503 when it does not;
"status" is "ok" only when a worker's heartbeat is fresh too. The middleware
answers before host validation, sessions and the login/feature middleware, so
probes by IP address work and a broken database gives 503, not 500.
"""

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponseNotAllowed, JsonResponse

from satu.core.worker import worker_status

logger = logging.getLogger(__name__)

PATH = "/healthz"


def _database() -> dict:
    result = {"ok": False, "vendor": connection.vendor}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("health check: database unavailable: %s", exc)
        result["error"] = exc.__class__.__name__
        return result
    result["ok"] = True
    return result


def healthz(request):
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    database = _database()
    worker = {"ok": False, "last_seen": None, "alive": 0}
    if database["ok"]:
        try:
            worker = worker_status()
        except DatabaseError as exc:
            # Tables missing (not migrated yet) or a failure after SELECT 1.
            logger.error("health check: worker status unavailable: %s", exc)
    last_seen = worker["last_seen"]
    body = {
        "status": "ok" if database["ok"] and worker["ok"] else "degraded",
        "database": database,
        "worker": {
            "ok": worker["ok"],
            "last_seen": last_seen.isoformat() if last_seen else None,
            "alive": worker["alive"],
        },
    }
    response = JsonResponse(body, status=200 if database["ok"] else 503)
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Serves /healthz ahead of the rest of the stack (see module doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH:
            return healthz(request)
        return self.get_response(request)
