"""Small helpers for the shared templates."""

from django import template

register = template.Library()


@register.simple_tag
def elided_pages(page, on_each_side=2, on_ends=1):
    """Page numbers around the current page, with Paginator.ELLIPSIS gaps."""
    return list(
        page.paginator.get_elided_page_range(
            page.number, on_each_side=on_each_side, on_ends=on_ends
        )
    )
