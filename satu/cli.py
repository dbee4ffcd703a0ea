"""The `satu` command: a thin wrapper over Django management commands.

Every word is the Django management command of that name, run with
DJANGO_SETTINGS_MODULE=config.settings (`satu shell`, `satu createsuperuser`,
...). `satu migrate` also creates the database cache table the settings use.
"""

import os
import sys

USAGE = """\
usage: satu COMMAND [options]

  migrate                     create or update the database (and cache table)
  run [--host H --port P]     web server and a worker beside it (Ctrl-C stops both)
  serve [--host H --port P]   web server only (waitress, production grade)
  worker                      background worker only
  demo [--if-empty]           load the demo company into an empty database
  token create USERNAME       print a new API token for USERNAME
  backup FILE                 consistent snapshot of the running database
  restore FILE                load a backup into an empty database
  check-books                 recompute balances from ledgers (exit 1 on differences)
  bench W1|W2 [options]       benchmark workload on the DATABASE_URL database
  createsuperuser, shell, ... any other Django management command

`satu help` lists every command; `satu COMMAND --help` explains one.
DATABASE_URL selects the database (default sqlite:///var/satu.sqlite3).
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(USAGE)
        return 0

    if args[0] == "bench":
        # Loaded by name: bench sits beside cli in the layers (no static import).
        import importlib

        return importlib.import_module("satu.bench").main(args[1:])
    # `satu check-books` runs the Django command check_books.
    if not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")

    from django.core.management import execute_from_command_line

    execute_from_command_line(["satu", *args])
    if args[0] == "migrate" and not {"-h", "--help", "--plan", "--check"} & set(args):
        # Sessions are in the database and the cache is too (settings.CACHES).
        execute_from_command_line(["satu", "createcachetable"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
