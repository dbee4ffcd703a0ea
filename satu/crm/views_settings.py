"""CRM configuration screens under /settings/crm/: deal kinds with their
stages and stage rules, and the reference lists (loss reasons, reasons for
contact, competitors, claim categories). Every write is a `services` call;
a refused change re-renders the page with the service's message (422)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.core.errors import DomainError, NotFound, ValidationFailed
from satu.core.roles import ROLES
from satu.core.web import fetch, raise_http, require_feature
from satu.crm import queries, services
from satu.crm.models import (
    ClaimCategory,
    Competitor,
    ContactReason,
    DealKind,
    Interaction,
    LossReason,
    StageRule,
    UnmetDemandReason,
)

CONFIG_PERMS = (
    "crm.change_dealkind",
    "crm.change_lossreason",
    "crm.change_contactreason",
    "crm.change_competitor",
    "crm.change_claimcategory",
    "crm.change_unmetdemandreason",
)

# slug -> (model, title, create service, update service, id keyword, perm)
REFERENCES = {
    "loss-reasons": (
        LossReason,
        gettext_lazy("Loss reasons"),
        services.loss_reason_create,
        services.loss_reason_update,
        "reason_id",
        "crm.change_lossreason",
    ),
    "contact-reasons": (
        ContactReason,
        gettext_lazy("Reasons for contact"),
        services.contact_reason_create,
        services.contact_reason_update,
        "reason_id",
        "crm.change_contactreason",
    ),
    "competitors": (
        Competitor,
        gettext_lazy("Competitors"),
        services.competitor_create,
        services.competitor_update,
        "competitor_id",
        "crm.change_competitor",
    ),
    "claim-categories": (
        ClaimCategory,
        gettext_lazy("Claim categories"),
        services.claim_category_create,
        services.claim_category_update,
        "category_id",
        "crm.change_claimcategory",
    ),
    "unmet-demand-reasons": (
        UnmetDemandReason,
        gettext_lazy("Reasons for unmet demand"),
        services.unmet_demand_reason_create,
        services.unmet_demand_reason_update,
        "reason_id",
        "crm.change_unmetdemandreason",
    ),
}


def _guard(request, *perms) -> None:
    require_feature(request, "crm")
    if not any(request.user.has_perm(p) for p in perms or CONFIG_PERMS):
        raise Forbidden(_("You do not have permission to do this."))


def _error_texts(exc: DomainError) -> list[str]:
    texts = [f"{m}" for ms in exc.fields.values() for m in ms]
    if not texts or str(exc.message) != str(type(exc).default_message):
        texts.insert(0, str(exc.message))
    return texts


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------- deal kinds


def _index(request, *, errors=None, form=None, status=200):
    kinds = list(queries.deal_kinds(active_only=False))
    context = {
        "kinds": kinds,
        "modes": DealKind.ControlMode.choices,
        "references": [(slug, ref[1]) for slug, ref in REFERENCES.items()],
        "errors": errors or [],
        "form": form or {},
    }
    return render(request, "crm/settings/index.html", context, status=status)


@require_GET
def crm_settings(request):
    """Deal kinds and links to the reference lists."""
    _guard(request)
    return _index(request)


@require_POST
def deal_kind_add(request):
    _guard(request, "crm.add_dealkind")
    stages = [
        {"name": line.strip()}
        for line in request.POST.get("stages", "").splitlines()
        if line.strip()
    ]
    try:
        kind = services.deal_kind_create(
            actor=request.user,
            name=request.POST.get("name", ""),
            control_mode=request.POST.get("control_mode", ""),
            stages=stages,
        )
    except DomainError as exc:
        raise_http(exc)
        return _index(request, errors=_error_texts(exc), form=request.POST, status=422)
    messages.success(request, _("Deal kind created."))
    return redirect("crm_settings_kind", pk=kind.pk)


def _kind_page(request, kind, *, errors=None, status=200):
    kind = fetch(queries.deal_kind_get, kind_id=kind.pk if kind else None)
    stages = sorted(kind.stages.all(), key=lambda s: (s.position, s.pk))
    context = {
        "kind": kind,
        "stages": stages,
        "modes": DealKind.ControlMode.choices,
        "rule_types": StageRule.Type.choices,
        "rule_fields": list(queries.RULE_FIELDS),
        "interaction_kinds": Interaction.Kind.choices,
        "roles": [(code, label) for code, label in ROLES.items()],
        "errors": errors or [],
    }
    return render(request, "crm/settings/kind.html", context, status=status)


@require_http_methods(["GET", "POST"])
def deal_kind_edit(request, pk: int):
    """One kind: its name, control mode and activity; its stages (add, rename,
    default probability, reorder) and each stage's rules (add, remove)."""
    _guard(request, "crm.change_dealkind")
    kind = fetch(queries.deal_kind_get, kind_id=pk)
    if request.method == "GET":
        return _kind_page(request, kind)
    action = request.POST.get("action", "")
    try:
        _kind_action(request, kind, action)
    except DomainError as exc:
        raise_http(exc)
        return _kind_page(request, kind, errors=_error_texts(exc), status=422)
    messages.success(request, _("Saved."))
    return redirect("crm_settings_kind", pk=kind.pk)


def _kind_action(request, kind, action: str) -> None:
    post = request.POST
    actor = request.user
    if action == "kind":
        services.deal_kind_update(
            actor=actor,
            kind_id=kind.pk,
            name=post.get("name", ""),
            control_mode=post.get("control_mode", ""),
            is_active=post.get("is_active") == "on",
        )
    elif action == "stage_add":
        services.stage_create(
            actor=actor,
            kind_id=kind.pk,
            name=post.get("name", ""),
            probability=_int(post.get("probability"), 0),
        )
    elif action == "stage_update":
        services.stage_update(
            actor=actor,
            stage_id=_int(post.get("stage"), 0),
            name=post.get("name", ""),
            probability=_int(post.get("probability"), -1),
        )
    elif action in ("stage_up", "stage_down"):
        order = [s.pk for s in queries.stages_of(kind)]
        stage_id = _int(post.get("stage"))
        if stage_id in order:
            i = order.index(stage_id)
            j = i - 1 if action == "stage_up" else i + 1
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
        services.stage_reorder(actor=actor, kind_id=kind.pk, stage_ids=order)
    elif action == "rule_add":
        stage_id = _int(post.get("stage"), 0)
        if stage_id not in {s.pk for s in kind.stages.all()}:
            raise NotFound(_("Stage not found."))
        services.stage_rule_create(
            actor=actor,
            stage_id=stage_id,
            rule_type=post.get("rule_type", ""),
            field_name=post.get("field_name", ""),
            interaction_kind=post.get("interaction_kind", ""),
            role_code=post.get("role_code", ""),
        )
    elif action == "rule_remove":
        rule_id = _int(post.get("rule"), 0)
        owned = {r.pk for s in kind.stages.all() for r in s.rules.all()}
        if rule_id not in owned:
            raise NotFound(_("Stage rule not found."))
        services.stage_rule_delete(actor=actor, rule_id=rule_id)
    else:
        raise ValidationFailed(_("Unknown action."))


# ---------------------------------------------------------------- reference lists


@require_http_methods(["GET", "POST"])
def reference_list(request, slug: str):
    """Add, rename, (de)activate entries of one reference list."""
    if slug not in REFERENCES:
        raise Http404(_("Unknown list."))
    model, title, create, update, id_key, perm = REFERENCES[slug]
    _guard(request, perm)
    errors, status = [], 200
    if request.method == "POST":
        post = request.POST
        extra = {}
        if model is Competitor:
            extra = {"website": post.get("website", "")}
        try:
            if post.get("action") == "add":
                create(actor=request.user, name=post.get("name", ""), **extra)
            else:
                update(
                    actor=request.user,
                    **{id_key: _int(post.get("id"), 0)},
                    name=post.get("name", ""),
                    is_active=post.get("is_active") == "on",
                    **extra,
                )
        except DomainError as exc:
            raise_http(exc)
            errors, status = _error_texts(exc), 422
        else:
            messages.success(request, _("Saved."))
            return redirect("crm_settings_reference", slug=slug)
    items = model.objects.order_by("-is_active", "name", "id")
    context = {
        "slug": slug,
        "title": title,
        "items": items,
        "has_website": model is Competitor,
        "errors": errors,
        "posted": request.POST if errors else {},
    }
    return render(request, "crm/settings/reference.html", context, status=status)
