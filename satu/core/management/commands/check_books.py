"""`satu check-books`: recompute every running balance from its ledger and
print the differences; exit code 1 when there is any."""

import sys

from django.core.management.base import BaseCommand, CommandError

from satu.core.books import book_checks, check_books


class Command(BaseCommand):
    help = "Recompute balances from the ledgers; exit 1 when any differs."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="only these checks")

    def handle(self, *args, **options):
        names = options["names"]
        unknown = set(names) - set(book_checks())
        if unknown:
            raise CommandError(f"Unknown check(s): {', '.join(sorted(unknown))}")
        results = check_books(names or None)
        bad = 0
        for name, differences in results.items():
            if differences:
                bad += len(differences)
                self.stdout.write(f"{name}: {len(differences)} difference(s)")
                for line in differences:
                    self.stdout.write(f"  {line}")
            else:
                self.stdout.write(f"{name}: ok")
        if bad:
            self.stderr.write(f"{bad} difference(s) found.")
            sys.exit(1)
