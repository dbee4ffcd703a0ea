from django.apps import AppConfig
from django.core.signals import request_started
from django.db.models.signals import post_migrate


def _forget_txcache(**_kwargs):
    from satu.core import txcache

    txcache.forget()


class CoreConfig(AppConfig):
    name = "satu.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from satu.core import roles

        # Roles are configuration, not business rules: syncing groups after
        # migrate is the one use of a signal here. It runs after every app's
        # migrate (not only core's) because permissions of apps later in
        # INSTALLED_APPS exist only once their own post_migrate has run.
        post_migrate.connect(roles.sync_roles, dispatch_uid="satu.core.sync_roles")
        # Every request starts with an empty per-transaction cache (matters in
        # tests, where the test's own transaction spans several requests).
        request_started.connect(
            _forget_txcache, dispatch_uid="satu.core.txcache_request"
        )
        roles.grant(
            roles.ADMINISTRATOR,
            [
                "core.change_featuretoggle",
                "core.add_customfield",
                "core.change_customfield",
                "core.view_auditentry",
                "core.view_user",
                "core.add_user",
                "core.change_user",
                # document templates (satu.core.documents) live in SystemFlag
                "core.change_systemflag",
            ],
        )
        roles.grant(roles.DIRECTOR, ["core.view_auditentry"])
