"""API bearer tokens: shown once at creation, stored as SHA-256."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from satu.core import audit
from satu.core.models import ApiToken

PREFIX = "satu_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, actor=None) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the raw token (shown once)."""
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=(name or "API")[:100], prefix=raw[:12], key_hash=_hash(raw)
    )
    audit.record(actor=actor or user, subject=token, action="created")
    return token, raw


@transaction.atomic
def api_token_revoke(*, token_id: int, actor) -> None:
    token = ApiToken.objects.filter(pk=token_id, user=actor, revoked_at=None).first()
    if token is not None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, subject=token, action="revoked")


def user_for_token(raw: str):
    if not raw or not raw.startswith(PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(raw), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_list(*, actor) -> list[ApiToken]:
    """The actor's own tokens, newest first (revoked ones included)."""
    return list(ApiToken.objects.filter(user=actor).order_by("-created_at", "-id"))
