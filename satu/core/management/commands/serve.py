"""`satu serve`: the web UI and API on waitress, a production WSGI server."""

import logging
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger("satu.server")


def _stop(signum, _frame):
    # waitress closes its sockets and threads when run() sees SystemExit.
    raise SystemExit(0)


class Command(BaseCommand):
    help = "Serve the web UI and API (waitress; static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("SATU_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("SATU_PORT", "8000"))
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("SATU_THREADS", "8")),
            help="Worker threads handling requests (default 8).",
        )

    def handle(self, *, host, port, threads, **_options):
        from django.core.wsgi import get_wsgi_application
        from waitress.server import create_server

        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        application = get_wsgi_application()
        options = {"host": host, "port": port, "threads": threads, "ident": "satu"}
        if proxy := os.environ.get("SATU_TRUSTED_PROXY"):
            # Behind a reverse proxy (its address here) honour X-Forwarded-*.
            options |= {
                "trusted_proxy": proxy,
                "clear_untrusted_proxy_headers": True,
                "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
            }
        server = create_server(application, **options)
        signal.signal(signal.SIGTERM, _stop)
        logger.info("serving on http://%s:%s/", host, port)
        server.run()
        logger.info("server stopped")
