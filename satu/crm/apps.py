from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "satu.crm"
    label = "crm"
    verbose_name = _("CRM")

    def ready(self):
        from satu.core import access, audit, features, roles
        from satu.crm import queries, services
        from satu.crm.models import Deal, Interaction
        from satu.parties import queries as parties_queries
        from satu.parties import services as parties_services

        features.register(
            "crm",
            _("Deals and interactions"),
            description=_(
                "Deals with stages and rules, the interaction journal, competitors."
            ),
            web_prefixes=(
                "/deals/",
                "/interactions/",
                "/claims/",
                "/tasks/",
                "/leads/",
                "/marketing/",
                "/public/lead-form/",
            ),
            api_prefixes=(
                "/api/v1/deals",
                "/api/v1/tasks",
                "/api/v1/interactions",
                "/api/v1/deal-kinds",
                "/api/v1/competitors",
                "/api/v1/loss-reasons",
                "/api/v1/contact-reasons",
                "/api/v1/claims",
                "/api/v1/claim-categories",
                "/api/v1/leads",
                "/api/v1/lead-forms",
                "/api/v1/marketing-events",
                "/api/v1/marketing-costs",
                "/api/v1/marketing/",
                "/api/v1/unmet-demand-reasons",
            ),
        )
        access.register(
            "crm.deal", Deal, queries.deals_visible_to, change_perm="crm.change_deal"
        )
        access.register(
            "crm.interaction",
            Interaction,
            queries.interactions_visible_to,
            change_perm="crm.change_interaction",
        )
        parties_services.register_merge_handler(services.merge_clients)

        for code, label in [
            ("stage_changed", _("Stage changed")),
            ("won", _("Won")),
            ("lost", _("Lost")),
            ("reopened", _("Reopened")),
            ("approved", _("Approved")),
            ("completed", _("Completed")),
            ("cancelled", _("Cancelled")),
        ]:
            audit.register_action(code, label)

        def interaction_summary(template):
            def render(data):
                return template % {
                    "kind": Interaction.Kind(data["kind"]).label,
                    "title": data["title"],
                }

            return render

        for kind, label, summary in [
            (
                "interaction.created",
                _("Interaction"),
                interaction_summary(_("%(kind)s: %(title)s")),
            ),
            (
                "interaction.planned",
                _("Planned interaction"),
                interaction_summary(_("%(kind)s planned: %(title)s")),
            ),
            (
                "interaction.completed",
                _("Interaction done"),
                interaction_summary(_("%(kind)s done: %(title)s")),
            ),
            (
                "interaction.cancelled",
                _("Interaction cancelled"),
                interaction_summary(_("%(kind)s cancelled: %(title)s")),
            ),
            (
                "deal.created",
                _("Deal"),
                _("Deal “%(title)s” opened (%(kind)s)"),
            ),
            (
                "deal.stage_changed",
                _("Deal stage"),
                _("Deal “%(title)s” moved from %(from)s to %(to)s"),
            ),
            ("deal.won", _("Deal won"), _("Deal “%(title)s” won")),
            ("deal.lost", _("Deal lost"), _("Deal “%(title)s” lost: %(reason)s")),
            ("deal.reopened", _("Deal reopened"), _("Deal “%(title)s” reopened")),
        ]:
            parties_queries.register_timeline_kind(kind, label, summary)

        working = [
            "crm.view_deal",
            "crm.add_deal",
            "crm.change_deal",
            "crm.view_interaction",
            "crm.add_interaction",
            "crm.change_interaction",
            "crm.view_dealkind",
            "crm.view_competitor",
            "crm.add_competitor",
            "crm.view_lossreason",
            "crm.view_contactreason",
        ]
        configuring = [
            "crm.add_dealkind",
            "crm.change_dealkind",
            "crm.add_lossreason",
            "crm.change_lossreason",
            "crm.add_contactreason",
            "crm.change_contactreason",
            "crm.change_competitor",
        ]
        roles.grant(roles.SALES_MANAGER, working)
        roles.grant(
            roles.HEAD_OF_SALES, working + configuring + ["crm.override_stage_rules"]
        )
        roles.grant(roles.ADMINISTRATOR, working + configuring)
        viewing = [
            "crm.view_deal",
            "crm.view_interaction",
            "crm.view_dealkind",
            "crm.view_competitor",
            "crm.view_lossreason",
            "crm.view_contactreason",
        ]
        roles.grant(roles.DIRECTOR, viewing)
        roles.grant(roles.MARKETER, viewing + ["crm.add_interaction"])

        # ---------------------------------------------------- claims (CRM-7)
        from satu.crm.models import Claim

        access.register(
            "crm.claim",
            Claim,
            queries.claims_visible_to,
            change_perm="crm.change_claim",
        )
        audit.register_action("state_changed", _("State changed"))

        def claim_summary(template):
            def render(data):
                return template % {
                    "number": data["number"],
                    "from": Claim.State(data["from"]).label if "from" in data else "",
                    "to": Claim.State(data["to"]).label if "to" in data else "",
                }

            return render

        parties_queries.register_timeline_kind(
            "claim.created",
            _("Claim"),
            claim_summary(_("Claim %(number)s registered")),
        )
        parties_queries.register_timeline_kind(
            "claim.state_changed",
            _("Claim state"),
            claim_summary(_("Claim %(number)s: %(from)s → %(to)s")),
        )
        claims_working = [
            "crm.view_claim",
            "crm.add_claim",
            "crm.change_claim",
            "crm.view_claimcategory",
        ]
        claims_configuring = ["crm.add_claimcategory", "crm.change_claimcategory"]
        roles.grant(roles.SALES_MANAGER, claims_working)
        roles.grant(roles.HEAD_OF_SALES, claims_working + claims_configuring)
        roles.grant(roles.ADMINISTRATOR, claims_working + claims_configuring)
        roles.grant(roles.DIRECTOR, ["crm.view_claim", "crm.view_claimcategory"])

        # ---------------------------------------------------- tasks (CRM-5)
        from satu.crm.models import Task

        access.register(
            "crm.task", Task, queries.tasks_visible_to, change_perm="crm.change_task"
        )

        def task_summary(template):
            def render(data):
                return template % {"title": data["title"]}

            return render

        for kind, label, summary in [
            ("task.created", _("Task"), task_summary(_("Task: %(title)s"))),
            (
                "task.completed",
                _("Task done"),
                task_summary(_("Task done: %(title)s")),
            ),
            (
                "task.cancelled",
                _("Task cancelled"),
                task_summary(_("Task cancelled: %(title)s")),
            ),
        ]:
            parties_queries.register_timeline_kind(kind, label, summary)
        tasks_working = ["crm.view_task", "crm.add_task", "crm.change_task"]
        roles.grant(roles.SALES_MANAGER, tasks_working)
        roles.grant(roles.HEAD_OF_SALES, tasks_working + ["crm.view_all_tasks"])
        roles.grant(roles.ADMINISTRATOR, tasks_working + ["crm.view_all_tasks"])
        roles.grant(roles.DIRECTOR, ["crm.view_task", "crm.view_all_tasks"])
        roles.grant(roles.MARKETER, tasks_working)

        from satu.crm import segments as crm_segments

        crm_segments.register()  # segment rule fields, reminder schedule

        # ------------------------ leads, marketing, attribution (CRM-3/4/6, P6)
        _ready_marketing()


def _ready_marketing() -> None:
    from satu.core import access, audit, roles
    from satu.crm import queries
    from satu.crm.models import Lead
    from satu.parties import queries as parties_queries

    access.register(
        "crm.lead", Lead, queries.leads_visible_to, change_perm="crm.change_lead"
    )
    for code, label in [
        ("qualified", _("Qualified")),
        ("disqualified", _("Disqualified")),
        ("deleted", _("Deleted")),
    ]:
        audit.register_action(code, label)
    parties_queries.register_timeline_kind(
        "lead.qualified", _("Lead qualified"), _("Lead “%(lead)s” qualified")
    )

    def touches_section(actor, client):
        if not actor.has_perm("crm.view_marketingevent"):
            return None
        touches = queries.client_touches(client=client)
        if not touches:
            return None
        return parties_queries.CardSection(
            title=_("Marketing touches"),
            template="crm/_client_touches.html",
            place="side",
            context={"touches": touches, "first": touches[0]},
        )

    parties_queries.register_card_section("crm.touches", touches_section, order=60)

    viewing = [
        "crm.view_marketingevent",
        "crm.view_eventparticipant",
        "crm.view_lead",
        "crm.view_leadform",
        "crm.view_unmetdemandreason",
    ]
    leads_working = ["crm.add_lead", "crm.change_lead"]
    managing = [
        "crm.add_marketingevent",
        "crm.change_marketingevent",
        "crm.view_marketingcost",
        "crm.add_marketingcost",
        "crm.delete_marketingcost",
        "crm.add_leadform",
        "crm.change_leadform",
        "crm.view_all_leads",
    ]
    configuring = ["crm.add_unmetdemandreason", "crm.change_unmetdemandreason"]
    roles.grant(roles.SALES_MANAGER, viewing + leads_working)
    roles.grant(roles.MARKETER, viewing + leads_working + managing)
    roles.grant(roles.HEAD_OF_SALES, viewing + leads_working + managing + configuring)
    roles.grant(roles.ADMINISTRATOR, viewing + leads_working + managing + configuring)
    roles.grant(roles.DIRECTOR, viewing + ["crm.view_marketingcost"])
