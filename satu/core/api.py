"""Platform endpoints: the current user, custom field definitions, feature
toggles, the audit trail, job progress, attachments and API tokens.

Endpoints parse input, call core services and queries and shape the answer;
errors are DomainErrors that satu.api maps to `{"code", "detail", "fields"}`.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.contrib.contenttypes.models import ContentType
from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from satu.core import (
    access,
    attachments,
    audit,
    custom_fields,
    features,
    jobs,
    roles,
    tokens,
    users,
)
from satu.core.errors import NotFound, PermissionDenied, ValidationFailed

router = Router(tags=["platform"])

Language = Literal["en", "id"]
FieldType = Literal["text", "number", "date", "choice", "bool"]
Choice = Annotated[str, Field(max_length=100)]
ObjectId = Annotated[int, Field(ge=1, le=2**63 - 1)]


# ------------------------------------------------------------------ schemas


class UserRef(Schema):
    id: int
    username: str
    full_name: str

    @staticmethod
    def resolve_full_name(obj) -> str:
        return obj.get_full_name() or obj.username


class RoleOut(Schema):
    code: str
    label: str


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    language: str
    time_zone: str
    is_superuser: bool
    roles: list[RoleOut]
    permissions: list[str] = Field(description="`app_label.codename` the user holds.")

    @staticmethod
    def resolve_full_name(obj) -> str:
        return obj.get_full_name() or obj.username

    @staticmethod
    def resolve_roles(obj) -> list[dict]:
        return [
            {"code": g.name, "label": roles.role_label(g.name)}
            for g in obj.groups.order_by("name")
            if g.name in roles.ROLES
        ]

    @staticmethod
    def resolve_permissions(obj) -> list[str]:
        return sorted(obj.get_all_permissions())


class MePatch(Schema):
    language: Language | None = None
    time_zone: str | None = Field(None, min_length=1, max_length=64)


class CustomFieldOut(Schema):
    id: int
    object_type: str
    code: str
    label: str
    field_type: FieldType
    choices: list[str]
    required: bool
    position: int
    is_active: bool


class CustomFieldIn(Schema):
    object_type: str = Field(max_length=64, examples=["parties.client"])
    code: str = Field(max_length=40, pattern=r"^[a-z][a-z0-9_]*$", examples=["region"])
    label: str = Field(min_length=1, max_length=100)
    field_type: FieldType
    choices: list[Choice] = Field(
        default_factory=list,
        max_length=200,
        description="Allowed values of a `choice` field.",
    )
    required: bool = False
    position: int = Field(0, ge=0, le=1_000_000)


class CustomFieldFilters(Schema):
    object_type: str | None = Field(None, max_length=64, examples=["parties.client"])


class CustomFieldPatch(Schema):
    label: str | None = Field(None, min_length=1, max_length=100)
    choices: list[Choice] | None = Field(None, max_length=200)
    required: bool | None = None
    position: int | None = Field(None, ge=0, le=1_000_000)
    is_active: bool | None = None


class FeatureOut(Schema):
    code: str
    label: str
    description: str
    default: bool
    parent: str | None
    enabled: bool = Field(description="Effective state (off when a parent is off).")


class FeaturePatch(Schema):
    enabled: bool


class AuditOut(Schema):
    id: int
    at: datetime
    actor: UserRef | None
    action: str
    object_type: str = Field(description="`app_label.model`, e.g. `parties.client`.")
    object_id: int
    object_repr: str
    changes: dict[str, Any] = Field(description="{field: [old, new]}")

    @staticmethod
    def resolve_object_type(obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class AuditFilters(Schema):
    object_type: str | None = Field(None, max_length=100, examples=["parties.client"])
    object_id: ObjectId | None = None
    actor_id: ObjectId | None = None
    action: str | None = Field(None, max_length=40)
    date_from: date | None = None
    date_to: date | None = None


class JobOut(Schema):
    id: int
    kind: str
    title: str
    state: Literal["queued", "running", "done", "failed"]
    progress: int = Field(description="Percent done, 0-100.")
    message: str
    result: dict[str, Any]
    result_url: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_result(obj) -> dict:
        # A failed job keeps its traceback for the administrator's log only.
        return {k: v for k, v in (obj.result or {}).items() if k != "trace"}


class AttachmentOut(Schema):
    id: int
    object_type: str
    object_id: int
    name: str
    size: int
    mime_type: str
    uploaded_at: datetime
    uploaded_by: UserRef | None
    download_url: str

    @staticmethod
    def resolve_object_type(obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    @staticmethod
    def resolve_download_url(obj) -> str:
        return f"/api/v1/attachments/{obj.pk}/download"


class AttachmentSubject(Schema):
    object_type: str = Field(max_length=64, examples=["parties.client"])
    object_id: ObjectId


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="First characters of the token, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. Shown only in this answer.")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["ERP integration"])


# ------------------------------------------------------------------ me


@router.get("/me", response=MeOut)
def get_me(request):
    """The authenticated user, roles, language and time zone."""
    return request.auth


@router.patch("/me", response=MeOut)
def patch_me(request, payload: MePatch):
    """Change the own language and/or time zone."""
    actor = request.auth
    data = payload.model_dump(exclude_unset=True)
    users.user_preferences_update(
        actor=actor,
        language=data.get("language") or actor.language,
        time_zone=data.get("time_zone") or actor.time_zone,
    )
    return actor


# ------------------------------------------------------------------ custom fields


@router.get("/custom-fields", response=list[CustomFieldOut])
@paginate
def list_custom_fields(request, filters: Query[CustomFieldFilters]):
    """Custom field definitions (inactive ones too), per object type."""
    return custom_fields.custom_field_list(object_type=filters.object_type)


@router.post("/custom-fields", response={201: CustomFieldOut})
def post_custom_field(request, payload: CustomFieldIn):
    """Define a custom field (administrators: `core.add_customfield`)."""
    field = custom_fields.custom_field_create(
        actor=request.auth, **payload.model_dump()
    )
    return Status(201, field)


@router.get("/custom-fields/{field_id}", response=CustomFieldOut)
def get_custom_field(request, field_id: int):
    return custom_fields.custom_field_get(field_id=field_id)


@router.patch("/custom-fields/{field_id}", response=CustomFieldOut)
def patch_custom_field(request, field_id: int, payload: CustomFieldPatch):
    """Change label, choices, required flag, position or activity (code and
    type stay fixed). Needs `core.change_customfield`."""
    field = custom_fields.custom_field_get(field_id=field_id)
    current = {
        "label": field.label,
        "choices": field.choices,
        "required": field.required,
        "position": field.position,
        "is_active": field.is_active,
    }
    changes = {
        k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None
    }
    return custom_fields.custom_field_update(
        actor=request.auth, field_id=field.pk, **{**current, **changes}
    )


# ------------------------------------------------------------------ features


def _feature_out(feature, state: dict[str, bool]) -> dict:
    return {
        "code": feature.code,
        "label": str(feature.label),
        "description": str(feature.description),
        "default": feature.default,
        "parent": feature.parent,
        "enabled": state.get(feature.code, True),
    }


@router.get("/features", response=list[FeatureOut])
@paginate
def list_features(request):
    """Every module and option with its effective on/off state."""
    state = features.enabled_map()
    return [_feature_out(f, state) for f in features.registered()]


@router.patch("/features/{code}", response=FeatureOut)
def patch_feature(request, code: str, payload: FeaturePatch):
    """Switch a module or option on or off (`core.change_featuretoggle`)."""
    features.feature_set(code=code, enabled=payload.enabled, actor=request.auth)
    return _feature_out(features.get(code), features.enabled_map())


# ------------------------------------------------------------------ audit


def _content_type(object_type: str) -> ContentType:
    app_label, _dot, model = object_type.partition(".")
    content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
    if content_type is None or not model:
        raise ValidationFailed(fields={"object_type": [_("Unknown object type.")]})
    return content_type


@router.get("/audit", response=list[AuditOut])
@paginate
def list_audit(request, filters: Query[AuditFilters]):
    """The audit trail, newest first.

    With `core.view_auditentry` any entries; otherwise only those of one
    record the user can see (`object_type` + `object_id`), else 403.
    """
    actor = request.auth
    if filters.object_id is not None and not filters.object_type:
        raise ValidationFailed(fields={"object_type": [_("Give the object type too.")]})
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationFailed(fields={"date_to": [_("The end is before the start.")]})
    content_type = _content_type(filters.object_type) if filters.object_type else None
    if not actor.has_perm("core.view_auditentry"):
        if content_type is None or filters.object_id is None:
            raise PermissionDenied(
                _("You may see the audit trail only of records you can see.")
            )
        access.visible_get(
            actor=actor, object_type=filters.object_type, object_id=filters.object_id
        )
    entries = audit.audit_entry_list(
        actor_id=filters.actor_id,
        action=filters.action or "",
        content_type_id=content_type.pk if content_type else None,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    if filters.object_id is not None:
        entries = entries.filter(object_id=filters.object_id)
    return entries


# ------------------------------------------------------------------ jobs


@router.get("/jobs/{job_id}", response=JobOut)
def get_job(request, job_id: int):
    """Progress and result of one of the user's own background jobs."""
    return jobs.job_get(actor=request.auth, job_id=job_id)


# ------------------------------------------------------------------ attachments


@router.get("/attachments", response=list[AttachmentOut])
@paginate
def list_attachments(request, subject: Query[AttachmentSubject]):
    """Files attached to a record the user can see."""
    record = access.visible_get(
        actor=request.auth,
        object_type=subject.object_type,
        object_id=subject.object_id,
    )
    return attachments.attachments_for(record)


@router.post("/attachments", response={201: AttachmentOut})
def post_attachment(
    request, file: File[UploadedFile], subject: Form[AttachmentSubject]
):
    """Attach a file (multipart upload) to a record the user can see."""
    attachment = attachments.attachment_add(
        actor=request.auth,
        object_type=subject.object_type,
        object_id=subject.object_id,
        uploaded=file,
    )
    return Status(201, attachment)


@router.get(
    "/attachments/{attachment_id}/download",
    response={200: None},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file.",
                "content": {
                    "application/octet-stream": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            }
        }
    },
)
def download_attachment(request, attachment_id: int):
    """The file, if the user can see the record it belongs to (else 404)."""
    attachment = attachments.attachment_get(
        actor=request.auth, attachment_id=attachment_id
    )
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotFound(_("The file is missing from storage.")) from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.mime_type,
    )


# ------------------------------------------------------------------ tokens


@router.get("/tokens", response=list[TokenOut])
@paginate
def list_tokens(request):
    """The user's own API tokens (revoked ones included)."""
    return tokens.api_token_list(actor=request.auth)


@router.post("/tokens", response={201: TokenCreated})
def post_token(request, payload: TokenIn):
    """Create an API token for the user; the answer shows it once."""
    token, raw = tokens.api_token_create(
        user=request.auth, name=payload.name.strip(), actor=request.auth
    )
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "token": raw})


@router.delete("/tokens/{token_id}", response={204: None})
def delete_token(request, token_id: int):
    """Revoke one of the user's own tokens."""
    if not any(
        t.pk == token_id and t.revoked_at is None
        for t in tokens.api_token_list(actor=request.auth)
    ):
        raise NotFound(_("Token not found."))
    tokens.api_token_revoke(token_id=token_id, actor=request.auth)
    return Status(204, None)
