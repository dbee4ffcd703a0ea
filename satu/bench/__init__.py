"""Benchmark workloads (see /work/shared/bench/workload.md): `satu bench W2`.

`main(argv)` dispatches on the workload name to `satu.bench.<name>.main`
(W1 lives in w1.py, W2 in w2.py)."""

import contextlib
import importlib
import os
import sys

USAGE = """\
usage: satu bench WORKLOAD [options]

  W1 [--orders N] [--no-migrate] [--profile FILE]  order-to-cash (400 orders)
  W2 [--moves N] [--no-migrate] [--profile FILE]   stock posting (8000 moves)

The database is the one DATABASE_URL names; start from an empty one, e.g.
  DATABASE_URL=sqlite:////tmp/w2.sqlite3 satu bench W2
(the bench runs `migrate` first unless --no-migrate).
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(USAGE)
        return 0 if args else 2
    name = args[0].lower()
    try:
        module = importlib.import_module(f"satu.bench.{name}")
    except ModuleNotFoundError:
        sys.stderr.write(f"Unknown workload {args[0]!r}.\n{USAGE}")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    warm_up()
    return module.main(args[1:])


def warm_up() -> None:
    """Load what a running server loads at start (the URL configuration with
    the API's schemas: about 2 s on the first `reverse`), so that the timed
    part measures the business work, not module imports."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 (populates the resolver)


@contextlib.contextmanager
def profiled(path: str | None):
    """cProfile the block into `path` (read it with `python -m pstats`) and
    print the 25 most expensive functions; a no-op without a path."""
    if not path:
        yield
        return
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(path)
        pstats.Stats(path).sort_stats("tottime").print_stats(25)
