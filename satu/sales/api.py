"""REST endpoints of sales (under /api/v1/)."""

from ninja import Router

router = Router(tags=["sales"])
