from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    name = "satu.parties"
    label = "parties"
    verbose_name = _("Clients")

    def ready(self):
        from satu.core import access, attachments, custom_fields, features, roles
        from satu.parties import imports, queries, services
        from satu.parties.models import Client, Contact, Counterparty

        imports.register()  # the import job handler, also in the worker

        from satu.core.schedules import register_schedule
        from satu.parties import tasks

        register_schedule(
            "parties.segments_recompute",
            "0 * * * *",
            tasks.recompute_rule_segments,
            _("Recompute rule segments"),
        )

        features.register(
            "contacts",
            _("Contact persons"),
            description=_("People who act for clients: phones, emails, roles."),
            web_prefixes=("/contacts/",),
            api_prefixes=("/api/v1/contacts",),
        )
        features.register(
            "counterparties",
            _("Counterparties (legal entities)"),
            description=_(
                "Legal entities with tax ids and bank accounts behind clients."
            ),
            web_prefixes=("/counterparties/",),
            api_prefixes=("/api/v1/counterparties",),
        )
        features.register(
            "parties.duplicate_check",
            _("Duplicate check on new clients"),
            description=_("Warn when a new client looks like an existing one."),
        )
        features.register(
            "attachments",
            _("Attachments"),
            description=_("Files attached to clients and other records."),
            web_prefixes=("/attachments/",),
            api_prefixes=("/api/v1/attachments",),
        )

        custom_fields.register_object_type("parties.client", _("Client"))
        custom_fields.register_object_type("parties.contact", _("Contact person"))
        custom_fields.register_object_type("parties.counterparty", _("Counterparty"))

        access.register(
            "parties.client",
            Client,
            queries.clients_visible_to,
            change_perm="parties.change_client",
        )
        access.register(
            "parties.contact",
            Contact,
            queries.contacts_visible_to,
            change_perm="parties.change_contact",
        )
        access.register(
            "parties.counterparty",
            Counterparty,
            queries.counterparties_visible_to,
            change_perm="parties.change_counterparty",
        )

        def client_attachment_added(*, actor, subject, attachment):
            services.timeline_record(
                client_id=subject.pk,
                kind="attachment.added",
                actor=actor,
                summary=_("File attached: %(name)s") % {"name": attachment.name},
                subject_type="core.attachment",
                subject_id=attachment.pk,
                url=f"/attachments/{attachment.pk}/download/",
                data={"name": attachment.name},
            )

        attachments.on_added("parties.client", client_attachment_added)

        def status_summary(data):
            return _("Status changed from %(old)s to %(new)s") % {
                "old": Client.Status(data["old"]).label,
                "new": Client.Status(data["new"]).label,
            }

        for kind, label, summary in [
            ("client.created", _("Created"), _("Client registered by %(user)s")),
            ("client.status_changed", _("Status"), status_summary),
            ("client.archived", _("Archived"), _("Client archived")),
            ("client.restored", _("Restored"), _("Client restored")),
            (
                "client.merged",
                _("Merged"),
                _("Client “%(name)s” merged into this one (%(n)d events moved)"),
            ),
            (
                "counterparty.linked",
                _("Counterparty linked"),
                _("Trades through %(name)s from %(start)s"),
            ),
            (
                "counterparty.unlinked",
                _("Counterparty ended"),
                _("Stops trading through %(name)s after %(end)s"),
            ),
            (
                "contact.linked",
                _("Contact"),
                _("Contact person %(name)s added%(role)s"),
            ),
            ("attachment.added", _("File"), _("File attached: %(name)s")),
        ]:
            queries.register_timeline_kind(kind, label, summary)

        editing = [
            "parties.view_client",
            "parties.add_client",
            "parties.change_client",
            "parties.view_contact",
            "parties.add_contact",
            "parties.change_contact",
            "parties.view_counterparty",
            "parties.add_counterparty",
            "parties.change_counterparty",
            "parties.view_clientgroup",
            "parties.view_channel",
        ]
        roles.grant(roles.SALES_MANAGER, editing)
        roles.grant(
            roles.HEAD_OF_SALES,
            editing
            + [
                "parties.view_all_clients",
                "parties.merge_clients",
                "parties.add_clientgroup",
                "parties.change_clientgroup",
            ],
        )
        roles.grant(
            roles.MARKETER,
            [
                "parties.view_client",
                "parties.view_all_clients",
                "parties.view_contact",
                "parties.view_counterparty",
                "parties.view_clientgroup",
                "parties.add_clientgroup",
                "parties.view_channel",
                "parties.add_channel",
                "parties.change_channel",
            ],
        )
        viewing = [
            "parties.view_client",
            "parties.view_all_clients",
            "parties.view_contact",
            "parties.view_counterparty",
            "parties.view_clientgroup",
            "parties.view_channel",
        ]
        roles.grant(
            roles.WAREHOUSE, ["parties.view_client", "parties.view_all_clients"]
        )
        roles.grant(
            roles.ACCOUNTANT,
            viewing
            + [
                "parties.add_counterparty",
                "parties.change_counterparty",
            ],
        )
        roles.grant(roles.DIRECTOR, viewing)
        roles.grant(
            roles.ADMINISTRATOR,
            editing
            + [
                "parties.view_all_clients",
                "parties.merge_clients",
                "parties.add_clientgroup",
                "parties.change_clientgroup",
                "parties.add_channel",
                "parties.change_channel",
            ],
        )
        company = ["parties.view_company", "parties.change_company"]
        roles.grant(roles.ADMINISTRATOR, company)
        roles.grant(roles.ACCOUNTANT, company)
        for role in (roles.SALES_MANAGER, roles.HEAD_OF_SALES, roles.WAREHOUSE):
            roles.grant(role, ["parties.view_company"])
        roles.grant(roles.DIRECTOR, ["parties.view_company"])
