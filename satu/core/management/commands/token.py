"""`satu token create USERNAME [--name N]`: print a new API bearer token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from satu.core.tokens import api_token_create


class Command(BaseCommand):
    help = "Manage API tokens: `satu token create USERNAME [--name NAME]`."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create", help="Create a token and print it (it is shown only once)."
        )
        create.add_argument("username")
        create.add_argument("--name", default="CLI", help="A label for the token.")

    def handle(self, *, action, username, name, **_options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user “{username}”.")
        if not user.is_active:
            raise CommandError(f"The user “{username}” is inactive.")
        _token, raw = api_token_create(user=user, name=name, actor=user)
        self.stdout.write(raw)
