"""The one NinjaAPI object: auth, error handlers, idempotency, and each
domain's router under /api/v1/.

Conventions every router gets from here without importing anything:
- auth on every endpoint (bearer token or session + CSRF), see `auth`;
- errors as `{"code", "detail", "fields"}`, see `errors`;
- `Idempotency-Key` on POST, see `idempotency`;
- `@ninja.pagination.paginate` answers `{"items", "count", "next"}`, see
  `pagination` (wired through the NINJA_PAGINATION_CLASS setting);
- the endpoint function's name is its operationId (`list_clients`).
"""

from ninja import NinjaAPI

from satu.api import errors
from satu.api.auth import AUTH
from satu.api.idempotency import OPENAPI_PARAMETER, idempotent
from satu.billing.api import router as billing_router
from satu.catalog.api import router as catalog_router
from satu.core.api import router as core_router
from satu.crm.api import router as crm_router
from satu.inventory.api import router as inventory_router
from satu.parties.api import router as parties_router
from satu.parties.api_io import router as parties_io_router
from satu.purchasing.api import router as purchasing_router
from satu.sales.api import router as sales_router

_ERROR_RESPONSES = {
    "400": "Malformed request (for example a body that is not JSON).",
    "401": "Not authenticated.",
    "403": "Not allowed for this user (or CSRF token missing on a session call).",
    "404": "No such record, or not visible to this user, or module switched off.",
    "409": "Conflict: stale version, possible duplicate, state does not allow it.",
    "422": "Invalid input; `fields` maps each field to its messages.",
}


class SatuAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(
            path_prefix=path_prefix, path_params=path_params
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["Error"] = errors.ErrorOut.model_json_schema()
        error_ref = {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
            }
        }
        for path_item in schema["paths"].values():
            for method, operation in path_item.items():
                responses = operation.setdefault("responses", {})
                declared = {str(status) for status in responses}  # ints from ninja
                for status, text in _ERROR_RESPONSES.items():
                    if status not in declared:
                        responses[status] = {"description": text, **error_ref}
                if method == "post":
                    params = operation.setdefault("parameters", [])
                    names = {p.get("name") for p in params}
                    if OPENAPI_PARAMETER["name"] not in names:
                        params.append(dict(OPENAPI_PARAMETER))
        return schema


api = SatuAPI(
    title="Satu API",
    version="1",
    description=(
        "Satu's REST API. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `satu token create USERNAME` or POST /api/v1/tokens). "
        "Lists take `?page=&page_size=` and answer `{items, count, next}`; errors "
        "answer `{code, detail, fields}`; POSTs honour `Idempotency-Key`."
    ),
    auth=AUTH,
    urls_namespace="api",
)
errors.install(api)
api.add_decorator(idempotent, mode="view")
api.add_router("/v1/", core_router)
# Before parties: "/clients/export" must not be taken for "/clients/{client_id}".
api.add_router("/v1/", parties_io_router)
api.add_router("/v1/", parties_router)
api.add_router("/v1/", catalog_router)
api.add_router("/v1/", crm_router)
api.add_router("/v1/", inventory_router)
api.add_router("/v1/", billing_router)
api.add_router("/v1/", sales_router)
api.add_router("/v1/", purchasing_router)
