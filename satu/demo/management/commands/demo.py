"""`satu demo [--if-empty] [--clients N]`: load the demo company."""

from django.core.management.base import BaseCommand, CommandError

from satu.demo import loader


class Command(BaseCommand):
    help = (
        "Load the demo trading company (about 50 employees, 2,000 clients) into "
        "an empty database. Refuses to touch a database with other data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only when the database has no users yet; "
            "otherwise say so and succeed.",
        )
        parser.add_argument(
            "--clients",
            type=int,
            default=loader.DEFAULT_CLIENTS,
            help="How many clients (default %(default)s).",
        )
        parser.add_argument("--seed", type=int, default=loader.DEFAULT_SEED)

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()  # progress shows also when piped, as under `make run`

    def handle(self, *, if_empty, clients, seed, verbosity, **_options):
        if clients < 1:
            raise CommandError("--clients must be at least 1.")
        state = loader.demo_state()
        if if_empty and state != "empty":
            self.stdout.write("The database already has users: demo data skipped.")
            return
        if state == "demo":
            raise CommandError("Demo data is already loaded in this database.")
        if state == "foreign":
            raise CommandError(
                "This database holds data that is not demo data; `satu demo` only "
                "loads into an empty database. Point DATABASE_URL at a new database."
            )
        if verbosity > 0:
            slow = "; this takes a few minutes" if clients >= 1000 else ""
            self.say(f"Loading the demo company ({clients:,} clients){slow} ...")
        try:
            summary = loader.load(
                seed=seed, clients=clients, progress=self.say if verbosity > 0 else None
            )
        except loader.DemoRefused:
            raise CommandError("The database stopped being empty; nothing loaded.")
        self.stdout.write(
            f"Demo data loaded in {summary.seconds} s: {summary.users} users, "
            f"{summary.clients:,} clients, {summary.counterparties:,} counterparties, "
            f"{summary.contacts:,} contacts."
        )
        if summary.sales_orders:
            self.stdout.write(
                f"Trade: {summary.products:,} products in {summary.warehouses} "
                f"warehouses, {summary.quotes} quotes, {summary.sales_orders:,} sales "
                f"orders, {summary.purchase_orders} purchase orders, "
                f"{summary.invoices:,} invoices, {summary.payments:,} payments."
            )
        self.stdout.write("Logins (user / password):")
        for login in loader.demo_logins():
            self.stdout.write(
                f"  {login['username']} / {login['password']}  ({login['role']})"
            )
