"""API authentication: a bearer token (integrations) or the Django session
(the web UI's own calls). Session calls that change data must carry the
CSRF token; bearer calls need none, since browsers never send them on their
own. Anything else answers 401 `not_authenticated`."""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from satu.core.errors import DomainError
from satu.core.tokens import user_for_token

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class CsrfFailed(DomainError):
    code = "csrf_failed"
    http_status = 403
    default_message = _(
        "The CSRF token is missing or wrong. Reload the page, or use a bearer token."
    )


def _as_request_user(request: HttpRequest, user):
    # Code below the API (templates, helpers) reads request.user; a token
    # call then sees the same user and language as a session call would.
    request.user = user
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
    return user


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer satu_...` (`satu token create` or POST /tokens)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token.strip())
        return _as_request_user(request, user) if user is not None else None


class SessionCsrfAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token.

    Unlike ninja's SessionAuth, a request without a session is simply not
    authenticated (401), rather than refused for its missing CSRF token.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return request.COOKIES.get(self.param_name) or "session"

    def authenticate(self, request: HttpRequest, key):
        if key is None:
            return None
        return request.user


bearer_auth = BearerTokenAuth()
session_auth = SessionCsrfAuth()
AUTH = [bearer_auth, session_auth]


def request_user(request: HttpRequest):
    """The authenticated user by the same rules as the endpoints, or None.

    For code that runs before ninja's own authentication (idempotency).
    A CSRF failure counts as not authenticated here; the endpoint itself
    will then answer it.
    """
    for method in AUTH:
        try:
            user = method(request)
        except DomainError:
            return None
        if user:
            return user
    return None
