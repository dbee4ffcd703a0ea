"""Values read once per database transaction.

Inside an atomic block, `cached(key, load)` calls `load()` the first time and
returns the same value until the outermost block commits or rolls back (or a
savepoint rolls back); outside a transaction it loads every time. For
settings-like rows that a service reads several times in one transaction
(feature switches, virtual locations): the value is exactly what the
transaction would have read, never another transaction's leftovers.

Django gives the connection a new `run_on_commit` list whenever a
transaction ends or a savepoint rolls back, so "the same list object" means
"the same transaction". Writers of such rows call `forget(key)` (or
`forget()`) so a transaction sees its own change.
"""

from collections.abc import Callable
from typing import Any

from django.db import connection

_ATTR = "_satu_txcache"


def cached(key: str, load: Callable[[], Any]) -> Any:
    if not connection.in_atomic_block:
        return load()
    store = getattr(connection, _ATTR, None)
    if store is None or store[0] is not connection.run_on_commit:
        store = (connection.run_on_commit, {})
        setattr(connection, _ATTR, store)
    values = store[1]
    if key not in values:
        values[key] = load()
    return values[key]


def forget(key: str | None = None) -> None:
    store = getattr(connection, _ATTR, None)
    if store is None:
        return
    if key is None:
        store[1].clear()
    else:
        store[1].pop(key, None)
