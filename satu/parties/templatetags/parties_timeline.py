from django import template

from satu.parties import queries

register = template.Library()


@register.filter
def timeline_text(entry) -> str:
    """A timeline entry's summary in the reader's language."""
    return queries.timeline_summary(entry)


@register.filter
def timeline_kind(kind: str) -> str:
    return str(queries.timeline_kind_label(kind))
