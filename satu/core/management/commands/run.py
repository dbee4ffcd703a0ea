"""`satu run` (what `make run` uses): the web server and a worker beside it.

Both run as child processes in their own sessions, so a Ctrl-C in the
terminal reaches only this supervisor, which then stops each child once and
waits for it (the worker finishes its current task). If either child dies,
the other is stopped too and the exit status says so.
"""

import signal
import socket
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from satu.core.models import SystemFlag
from satu.core.roles import role_label

STOP_TIMEOUT = 30


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the supervisor is killed outright."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def demo_logins() -> list[dict]:
    try:
        flag = SystemFlag.objects.filter(key="demo").first()
    except DatabaseError:
        return []
    return list(flag.value.get("logins", [])) if flag else []


class Command(BaseCommand):
    help = "Serve the web UI with a background worker beside it; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="Start only the web server."
        )

    def handle(self, *, host, port, no_worker, **_options):
        if _listening(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use; "
                "stop the other server or choose --port."
            )
        stop = {"signal": None}

        def request_stop(signum, _frame):
            stop["signal"] = signum

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        base = [sys.executable, "-m", "satu.cli"]
        commands = {"server": [*base, "serve", "--host", host, "--port", str(port)]}
        if not no_worker:
            commands["worker"] = [*base, "worker"]
        children = {
            name: subprocess.Popen(
                cmd, start_new_session=True, preexec_fn=_die_with_parent
            )
            for name, cmd in commands.items()
        }
        announced = False
        failed = None
        while stop["signal"] is None and failed is None:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = name
            if not announced and failed is None and _listening(host, port):
                self._announce(host, port, with_worker=not no_worker)
                announced = True
                connections.close_all()  # the supervisor needs no database
            time.sleep(0.2)

        if failed:
            self.stderr.write(
                f"The {failed} stopped (exit {children[failed].returncode}); "
                "stopping the rest."
            )
        else:
            self.stdout.write("Stopping Satu ...")
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if failed:
            sys.exit(children[failed].returncode or 1)
        self.stdout.write("Satu stopped.")

    def _announce(self, host: str, port: int, *, with_worker: bool) -> None:
        shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        lines = ["", f"  Satu is running at http://{shown}:{port}/"]
        if with_worker:
            lines.append("  A background worker runs beside it.")
        logins = demo_logins()
        if logins:
            lines.append("")
            lines.append("  Demo logins (user / password — role):")
            width = max(len(login["username"]) for login in logins)
            for login in logins:
                lines.append(
                    f"    {login['username']:<{width}} / {login['password']:<5} "
                    f"— {role_label(login['role'])}"
                )
        lines += [
            "",
            "  API docs: /api/docs    Health: /healthz    Ctrl-C stops Satu.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
