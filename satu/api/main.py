"""The one NinjaAPI object: auth, error handlers, and each domain's router."""

from ninja import NinjaAPI

from satu.core.api import router as core_router
from satu.parties.api import router as parties_router
from satu.parties.api_io import router as parties_io_router

api = NinjaAPI(title="Satu API", version="1", urls_namespace="api")
api.add_router("/v1/", core_router)
api.add_router("/v1/", parties_router)
api.add_router("/v1/", parties_io_router)
