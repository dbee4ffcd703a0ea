"""Page pagination for every list endpoint.

Set as ninja's default (`NINJA_PAGINATION_CLASS` in settings), so a domain
router only writes

    from ninja.pagination import paginate

    @router.get("/things", response=list[ThingOut])
    @paginate
    def list_things(request, ...):
        return queries.thing_list(actor=request.auth, ...)

and answers `{"items": [...], "count": n, "next": url-or-null}` for
`?page=&page_size=` (page_size at most 200). Domain apps never import this
module (they sit below `satu.api` in the layer rules); ninja loads it by
name from the setting.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any real list; keeps OFFSET arithmetic within 64 bits.
MAX_PAGE = 1_000_000


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Items per page (at most {MAX_PAGE_SIZE}).",
    )


def page_url(request: HttpRequest, **changes) -> str:
    """The current URL with some query parameters replaced."""
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = str(value)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginate_items(items, *, page: int, page_size: int, request: HttpRequest) -> dict:
    """One page of a queryset (or list) as the API's page body.

    Two queries for a queryset: the count and the page itself (plus the
    queryset's own prefetches), whatever the number of rows.
    """
    offset = (page - 1) * page_size
    try:
        count = items.all().count()
    except AttributeError:
        count = len(items)
    rows = list(items[offset : offset + page_size]) if offset < count else []
    more = offset + page_size < count
    return {
        "items": rows,
        "count": count,
        "next": page_url(request, page=page + 1, page_size=page_size) if more else None,
    }


class PagePagination(PaginationBase):
    Input = PageParams

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="Number of items on all pages.")
        next: str | None = Field(description="URL of the next page, null on the last.")

    def paginate_queryset(self, queryset, pagination: PageParams, request, **params):
        return paginate_items(
            queryset,
            page=pagination.page,
            page_size=pagination.page_size,
            request=request,
        )
