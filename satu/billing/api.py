"""REST endpoints of billing (under /api/v1/)."""

from ninja import Router

router = Router(tags=["billing"])
