"""REST endpoints of purchasing (under /api/v1/)."""

from ninja import Router

router = Router(tags=["purchasing"])
