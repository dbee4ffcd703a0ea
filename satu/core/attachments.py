"""Files attached to any business record (contracts, scans, material).

Size and type are checked; the file is stored through Django's default
storage (filesystem under MEDIA_ROOT, or S3-compatible via SATU_FILE_STORAGE).
Callers pass a subject they fetched through `access.visible_get`.
"""

import mimetypes
from collections.abc import Callable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

from satu.core import access, audit
from satu.core.errors import NotFound, ValidationFailed
from satu.core.models import Attachment

_SIGNATURES = {
    "application/pdf": [b"%PDF"],
    "image/png": [b"\x89PNG"],
    "image/jpeg": [b"\xff\xd8\xff"],
    "image/gif": [b"GIF8"],
    "application/zip": [b"PK"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [b"PK"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [b"PK"],
}

_on_added: dict[str, list[Callable]] = {}


def on_added(object_type: str, callback: Callable) -> None:
    """`callback(actor=, subject=, attachment=)` runs inside the adding transaction."""
    _on_added.setdefault(object_type, []).append(callback)


def _check(uploaded) -> str:
    if uploaded.size > settings.SATU_ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            _("The file is larger than %(mb)d MB.")
            % {"mb": settings.SATU_ATTACHMENT_MAX_BYTES // (1024 * 1024)},
            fields={"file": [_("File too large.")]},
        )
    if uploaded.size == 0:
        raise ValidationFailed(
            _("The file is empty."), fields={"file": [_("Empty file.")]}
        )
    guessed = mimetypes.guess_type(uploaded.name)[0] or "application/octet-stream"
    if guessed not in settings.SATU_ATTACHMENT_TYPES:
        raise ValidationFailed(
            _("Files of this type (%(type)s) cannot be attached.") % {"type": guessed},
            fields={"file": [_("File type not allowed.")]},
        )
    head = uploaded.read(8)
    uploaded.seek(0)
    signatures = _SIGNATURES.get(guessed)
    if signatures and not any(head.startswith(s) for s in signatures):
        raise ValidationFailed(
            _("The file content does not match its name (%(type)s).")
            % {"type": guessed},
            fields={"file": [_("File content does not match its type.")]},
        )
    return guessed


@transaction.atomic
def attachment_add(*, actor, object_type: str, object_id, uploaded) -> Attachment:
    """Attach an uploaded file to a record the actor may edit.

    Raises NotFound for an invisible record, PermissionDenied without the
    record type's change permission, ValidationFailed for a bad file."""
    subject = access.editable_get(
        actor=actor, object_type=object_type, object_id=object_id
    )
    mime = _check(uploaded)
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        name=uploaded.name[:255],
        size=uploaded.size,
        mime_type=mime,
        uploaded_by=actor,
    )
    attachment.file.save(uploaded.name, uploaded, save=False)
    attachment.save()
    audit.record(
        actor=actor,
        subject=subject,
        action="attachment_added",
        changes={"attachment": [None, attachment.name]},
    )
    for callback in _on_added.get(object_type, []):
        callback(actor=actor, subject=subject, attachment=attachment)
    return attachment


def attachments_for(subject) -> list[Attachment]:
    return list(
        Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(subject),
            object_id=subject.pk,
        ).select_related("uploaded_by")
    )


def attachment_get(*, actor, attachment_id: int) -> Attachment:
    """The attachment, if the actor may see the record it belongs to."""
    attachment = (
        Attachment.objects.select_related("content_type")
        .filter(pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise NotFound()
    code = access.object_type_for_model(attachment.content_type.model_class())
    if code is None:
        raise NotFound()
    access.visible_get(actor=actor, object_type=code, object_id=attachment.object_id)
    return attachment
