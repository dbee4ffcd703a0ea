"""`Idempotency-Key` for POST requests.

The first successful (2xx) answer to a POST carrying the header is stored
per user and key; the same user sending the same key and the same body gets
that answer again (status and body, header `Idempotent-Replayed: true`) and
nothing is created twice. The same key with another body or path answers
422 `idempotency.key_reused`. Failed answers are not stored: the caller can
fix the request and retry with the same key.

Installed once for the whole API (`api.add_decorator(idempotent,
mode="view")` in satu.api.main), so every router's creating POST honours
the header without importing anything.

Races: the request runs in one transaction together with the insert of its
record; two identical requests at once both run, the unique constraint on
(user, key) lets only one record commit, and the loser's transaction --
including what it created -- rolls back before it replays the winner's
answer.
"""

import hashlib
import json
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from satu.api.auth import request_user
from satu.api.errors import error_body
from satu.core.errors import IdempotencyKeyReused
from satu.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
    "description": (
        "Any unique string (a UUID) to make this POST safe to retry: the same "
        "key with the same body replays the first answer and creates nothing."
    ),
}


def _canonical_body(request: HttpRequest) -> bytes:
    content_type = request.content_type or ""
    if content_type.startswith("multipart/") or content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        # Uploads may exceed the in-memory body limit: hash the parsed parts.
        digest = hashlib.sha256()
        for key in sorted(request.POST):
            digest.update(f"{key}={request.POST.getlist(key)}\n".encode())
        for key in sorted(request.FILES):
            for upload in request.FILES.getlist(key):
                digest.update(f"{key}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
        return digest.hexdigest().encode()
    body = request.body
    try:
        # The same JSON with other spacing or key order is the same request.
        return json.dumps(json.loads(body), sort_keys=True).encode()
    except ValueError:
        return body


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(_canonical_body(request))
    return digest.hexdigest()


def _json(status: int, body: dict) -> HttpResponse:
    return HttpResponse(
        json.dumps(body), status=status, content_type="application/json"
    )


def _replay(record: IdempotencyRecord, request_hash: str) -> HttpResponse:
    if record.request_hash != request_hash:
        exc = IdempotencyKeyReused()
        return _json(exc.http_status, error_body(exc.code, exc.message))
    response = HttpResponse(
        bytes(record.response_body),
        status=record.status_code,
        content_type="application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _find(user, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(user=user, key=key).first()


def idempotent(run):
    """View decorator (ninja `mode="view"`) applying the rules above to POSTs."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs):
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return run(request, *args, **kwargs)
        user = request_user(request)
        if user is None:
            return run(request, *args, **kwargs)  # answers 401/403 itself
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return _json(
                422,
                error_body(
                    "validation_error",
                    _("Some fields are not valid."),
                    {HEADER: [_("Use 1 to %(n)d characters.") % {"n": MAX_KEY_LENGTH}]},
                ),
            )
        request_hash = fingerprint(request)
        try:
            with transaction.atomic():
                record = _find(user, key)
                if record is not None:
                    return _replay(record, request_hash)
                response = run(request, *args, **kwargs)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                if not 200 <= response.status_code < 300:
                    failed = response
                else:
                    IdempotencyRecord.objects.create(
                        user=user,
                        key=key,
                        path=request.path[:500],
                        request_hash=request_hash,
                        status_code=response.status_code,
                        response_body=bytes(response.content),
                    )
                    return response
        except IntegrityError:
            # A twin request committed first; ours was rolled back whole.
            record = _find(user, key)
            if record is None:
                raise
            return _replay(record, request_hash)
        # A twin may have committed while ours failed on what it created
        # (say, a duplicate warning): the caller wants the twin's answer.
        record = _find(user, key)
        return _replay(record, request_hash) if record is not None else failed

    return wrapper
