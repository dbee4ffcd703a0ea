"""In-process domain events, delivered after the surrounding transaction commits.

Events are frozen dataclasses named in the past tense, defined in the
publishing app's `events.py`. Subscribers register handlers in their
`AppConfig.ready()`; handlers call only their own app's services and push
durable work to a task. No Django model signals carry business rules.
"""

from collections import defaultdict
from collections.abc import Callable
from functools import partial

from django.db import transaction

_handlers: dict[type, list[Callable]] = defaultdict(list)


def subscribe(event_type: type, handler: Callable) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def publish(event) -> None:
    for handler in list(_handlers[type(event)]):
        handler(event)


def publish_on_commit(event) -> None:
    """Deliver the event once the current transaction commits (now if none)."""
    transaction.on_commit(partial(publish, event))
