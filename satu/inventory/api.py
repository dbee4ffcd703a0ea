"""REST endpoints of inventory (under /api/v1/)."""

from ninja import Router

router = Router(tags=["inventory"])
