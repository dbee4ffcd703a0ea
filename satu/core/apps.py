from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "satu.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from satu.core import roles

        # Roles are configuration, not business rules: syncing groups after
        # migrate is the one use of a signal here.
        post_migrate.connect(roles.sync_roles, sender=self)
        roles.grant(
            roles.ADMINISTRATOR,
            [
                "core.change_featuretoggle",
                "core.add_customfield",
                "core.change_customfield",
                "core.view_auditentry",
            ],
        )
        roles.grant(roles.DIRECTOR, ["core.view_auditentry"])
