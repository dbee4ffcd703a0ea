"""One mapping from exceptions to the API's error body.

Every error answers `{"code": "...", "detail": "...", "fields": {...}}`
(plus any extra context a DomainError carries, such as duplicate
`candidates`). Bad input is a 4xx; only a real bug is a 500, and it never
shows a traceback.
"""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from satu.core.errors import DomainError

logger = logging.getLogger("satu.api")

# Codes for errors that ninja or Django raise with only a status.
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "throttled",
}
_RESERVED = {"code", "detail", "fields"}


class ErrorOut(Schema):
    """The body of every 4xx/5xx answer."""

    code: str
    detail: str
    fields: dict[str, list[str]] = {}


def error_body(code: str, detail, fields: dict | None = None, **extra) -> dict:
    body = {"code": code, "detail": str(detail), "fields": fields or {}}
    body.update({k: v for k, v in extra.items() if k not in _RESERVED})
    return body


def _field_key(loc) -> str:
    """`("body", "payload", "custom", "region")` → `"custom.region"`.

    The first element is the parameter source; for a JSON body the second is
    the endpoint's parameter name, which means nothing to the caller (query
    and form parameters come flattened).
    """
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:]
    elif parts:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def validation_fields(errors: list[dict]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        key = _field_key(error.get("loc", ()))
        message = error.get("msg") or _("Invalid value.")
        if error.get("type") == "value_error" and error.get("ctx", {}).get("error"):
            message = error["ctx"]["error"]  # ours, without pydantic's prefix
        fields.setdefault(key, []).append(str(message))
    return fields


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api` (replacing ninja's defaults)."""

    def respond(request: HttpRequest, status: int, body: dict) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return respond(
            request,
            exc.http_status,
            error_body(exc.code, exc.message, exc.fields, **exc.context),
        )

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return respond(
            request,
            422,
            error_body(
                "validation_error",
                _("Some fields are not valid."),
                validation_fields(exc.errors),
            ),
        )

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        response = respond(
            request,
            401,
            error_body(
                "not_authenticated",
                _("Log in, or send an API token as “Authorization: Bearer <token>”."),
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="satu"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = _HTTP_CODES.get(exc.status_code, "error")
        detail = exc.message
        if exc.status_code == 400 and "parse" in exc.message.lower():
            code, detail = "invalid_body", _("The request body is not valid JSON.")
        return respond(request, exc.status_code, error_body(code, detail))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request, exc):
        return respond(request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(DjangoPermissionDenied)
    def forbidden(request, exc):
        return respond(
            request,
            403,
            error_body(
                "permission_denied", _("You do not have permission to do this.")
            ),
        )

    @api.exception_handler(Exception)
    def unexpected(request, exc: Exception):
        logger.exception(
            "API error on %s %s", request.method, request.path, exc_info=exc
        )
        return respond(
            request,
            500,
            error_body(
                "server_error",
                _(
                    "Something went wrong on our side. "
                    "The administrator can see the log."
                ),
            ),
        )
