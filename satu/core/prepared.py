"""ORM queries compiled once, run many times (ADR 014).

Django builds and compiles a query's SQL on every call: for the short,
repeated reads of a posting (an order by id, its lines, five products) that
costs ten times what the database needs to answer. `prepared` keeps the
expressiveness of the ORM and pays the compilation once per shape:

    _order = prepared(lambda order_id: SalesOrder.objects.filter(pk=order_id))
    order = _order.first(order_id=5)          # a SalesOrder or None
    lines = _lines.all(order_ids=[5, 6])      # a list, as list(queryset)

The builder is called once with placeholder values standing in for the
parameters; the SQL Django compiles from it is kept (per database
connection and per shape) with the positions of the placeholders, and every
later call runs that SQL with the real values through Django's own
iterables — model instances, `select_related` objects, annotations,
`values()` and `values_list()` rows come out exactly as from the queryset.

Parameters:
- an `int`, a `str` or a `date` is a placeholder: the compiled SQL is
  reused for every value. It must reach the SQL unchanged (an exact
  match, `__in`, `__lte` on an integer, text or date column; not
  `__icontains`, which rewrites it); the first call checks that every
  placeholder reaches the SQL and raises `ImproperlyConfigured` otherwise.
- a list, tuple or set of ints, strs or dates is one placeholder per
  distinct element (duplicates dropped, order kept); the shape includes its
  length. An empty list is compiled as such (a bare `pk__in=[]` matches
  nothing and runs no SQL at all).
- anything else (None, bool, a datetime, a Decimal) is part of the shape:
  the query is compiled once per distinct value (at most `MAX_SHAPES`
  shapes are kept per query; then they are compiled afresh).

`select_for_update` keeps its meaning (the SQL says `FOR UPDATE` where the
database has it) and, as with the ORM, needs a transaction.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

MAX_SHAPES = 64
_INT_BASE = 2_013_265_000  # inside a 32-bit integer column's range
_ATTR = "_satu_prepared"
_serial = itertools.count(1)


class _Frozen:
    """A stand-in for a compiled Query: hands out the compiler with this
    call's parameters, answers everything else from the template query."""

    __slots__ = ("_query", "_compiler")

    def __init__(self, query, compiler):
        self._query = query
        self._compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler

    def __getattr__(self, name):
        return getattr(self._query, name)


class _Compiled:
    __slots__ = ("template", "compiler", "sql", "params", "slots", "locks")

    def run(self, values: dict[str, Any], connection) -> list:
        if self.sql is None:  # the query can match nothing (`pk__in=[]`)
            return []
        params = list(self.params)
        for index, name, position, adapt in self.slots:
            value = values[name]
            value = value if position is None else value[position]
            params[index] = value if adapt is None else adapt(value)
        if self.locks and not connection.in_atomic_block:
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        compiler = copy.copy(self.compiler)
        sql = self.sql
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        template = self.template
        qs = QuerySet(model=template.model, query=_Frozen(template.query, compiler))
        qs._db = template._db
        qs._iterable_class = template._iterable_class
        qs._fields = template._fields
        qs._prefetch_related_lookups = template._prefetch_related_lookups
        qs._hints = template._hints
        return list(qs)


class Prepared:
    def __init__(self, build: Callable[..., QuerySet], using: str = DEFAULT_DB_ALIAS):
        self._build = build
        self._using = using
        self._id = next(_serial)

    def all(self, **params) -> list:
        return self._run(False, params)

    def first(self, **params):
        rows = self._run(True, params)
        return rows[0] if rows else None

    # ---------------------------------------------------------------- inside

    def _run(self, first: bool, params: dict[str, Any]) -> list:
        values: dict[str, Any] = {}
        shape: list = [first]
        for name in sorted(params):
            value = params[name]
            if isinstance(value, (list, tuple, set, frozenset)):
                items = list(dict.fromkeys(value))
                if not items:
                    shape.append((name, "empty"))
                    continue
                if not all(_placeholder_type(v) for v in items):
                    raise TypeError(f"prepared: {name} must hold ints, strs or dates")
                shape.append((name, "list", len(items)))
                values[name] = items
            elif _placeholder_type(value):
                shape.append((name, type(value).__name__))
                values[name] = value
            else:
                shape.append((name, "=", value))
        key = tuple(shape)
        connection = connections[self._using]
        store = connection.__dict__.get(_ATTR)
        if store is None:
            store = connection.__dict__[_ATTR] = {}
        shapes = store.get(self._id)
        if shapes is None:
            shapes = store[self._id] = {}
        compiled = shapes.get(key)
        if compiled is None:
            compiled = self._compile(first, params, connection)
            if len(shapes) >= MAX_SHAPES:
                shapes.clear()
            shapes[key] = compiled
        return compiled.run(values, connection)

    def _compile(self, first: bool, params: dict[str, Any], connection) -> _Compiled:
        sentinels: dict[Any, tuple[str, int | None]] = {}
        counter = itertools.count()

        adapted: dict[Any, Any] = {}

        def stand_in(name, value, position):
            n = next(counter)
            if type(value) is int:
                token = _INT_BASE + n
            elif type(value) is str:
                token = f"\x1fsatu:{n}\x1f"
            else:  # a date: the backend may pass it on as text
                token = date(1001 + n, 1, 1)
                adapted[connection.ops.adapt_datefield_value(token)] = token
            sentinels[token] = (name, position)
            return token

        arguments = {}
        for name, value in params.items():
            if isinstance(value, (list, tuple, set, frozenset)):
                items = list(dict.fromkeys(value))
                arguments[name] = [stand_in(name, v, i) for i, v in enumerate(items)]
            elif _placeholder_type(value):
                arguments[name] = stand_in(name, value, None)
            else:
                arguments[name] = value
        qs = self._build(**arguments)
        if not isinstance(qs, QuerySet):
            raise ImproperlyConfigured("prepared: the builder must return a QuerySet")
        if qs._known_related_objects:
            raise ImproperlyConfigured("prepared: use a manager, not a related manager")
        if first:
            if not qs.ordered:
                qs = qs.order_by("pk")
            qs = qs[:1]
        qs = qs.using(self._using)
        compiler = qs.query.get_compiler(using=self._using)
        compiled = _Compiled()
        try:
            sql, template_params = compiler.as_sql()
        except EmptyResultSet:
            compiled.sql = None
            return compiled
        # Converters depend only on the selected columns: work them out once
        # (Django does it on every iteration).
        converters = compiler.get_converters(
            [s[0] for s in compiler.select[0 : compiler.col_count]]
        )
        compiler.get_converters = lambda expressions: converters
        slots = []
        seen = set()
        date_adapter = connection.ops.adapt_datefield_value
        for index, value in enumerate(template_params):
            adapt = None
            if type(value) is str and value in adapted:
                value, adapt = adapted[value], date_adapter
            elif isinstance(value, int) and type(value) not in (int, bool):
                # psycopg's Int2/Int4/Int8 wrappers (PostgreSQL backend): keep
                # the wrapper so the server sees the same parameter type.
                value, adapt = int(value), type(value)
            if not _placeholder_type(value):
                continue
            if value in sentinels:
                seen.add(value)
                name, position = sentinels[value]
                slots.append((index, name, position, adapt))
        missing = {sentinels[t][0] for t in sentinels if t not in seen}
        if missing:
            raise ImproperlyConfigured(
                f"prepared: parameters {sorted(missing)} do not reach the SQL "
                "unchanged; pass them as fixed values instead"
            )
        compiled.template = qs
        compiled.compiler = compiler
        compiled.sql = sql
        compiled.params = tuple(template_params)
        compiled.slots = tuple(slots)
        compiled.locks = bool(qs.query.select_for_update)
        return compiled


def _placeholder_type(value) -> bool:
    return type(value) in (int, str, date)


def prepared(build: Callable[..., QuerySet], using: str = DEFAULT_DB_ALIAS) -> Prepared:
    """A query compiled once per shape; see the module docstring."""
    return Prepared(build, using)


def forget() -> None:
    """Drop the compiled queries of every connection of this thread (after a
    migration changed a table, for instance)."""
    for connection in connections.all(initialized_only=True):
        connection.__dict__.pop(_ATTR, None)


# ------------------------------------------------------------------ writes
#
# `Model.save()` and `bulk_create` build and compile an INSERT or UPDATE on
# every call. `insert` and `update` write the same rows with SQL built once
# per (model, fields, row count), running each field's `pre_save` (auto_now,
# auto_now_add) and `get_db_prep_save` exactly as Django does. Models with
# pre_save/post_save receivers are refused (those signals are not sent).


def _check_signals(model) -> None:
    from django.db.models.signals import post_save, pre_save

    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        raise ImproperlyConfigured(
            f"prepared: {model.__name__} has save signal receivers; use save()"
        )


def _write_sql(connection, key, build) -> str:
    store = connection.__dict__.get(_ATTR)
    if store is None:
        store = connection.__dict__[_ATTR] = {}
    sql = store.get(key)
    if sql is None:
        sql = store[key] = build()
    return sql


def insert(objs, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """INSERT unsaved instances of one model in one statement; each gets its
    primary key (RETURNING) and is marked saved, as after `save()`."""
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    if any(type(o) is not model for o in objs):
        raise TypeError("prepared.insert: one model at a time")
    meta = model._meta
    _check_signals(model)
    pk = meta.pk
    auto_pk = pk.attname if getattr(objs[0], pk.attname) is None else None
    if auto_pk and any(getattr(o, pk.attname) is not None for o in objs):
        raise ValueError("prepared.insert: set every primary key or none")
    fields = [
        f
        for f in meta.local_concrete_fields
        if not f.generated and not (auto_pk and f is pk)
    ]
    connection = connections[using]
    qn = connection.ops.quote_name

    def build() -> str:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        columns = ", ".join(qn(f.column) for f in fields)
        sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES " + ", ".join(
            [row] * len(objs)
        )
        if auto_pk:
            sql += f" RETURNING {qn(pk.column)}"
        return sql

    sql = _write_sql(connection, ("insert", model, len(objs), bool(auto_pk)), build)
    params = []
    for obj in objs:
        for f in fields:
            params.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if auto_pk:
            # Both SQLite and PostgreSQL return the rows of a multi-row
            # INSERT … RETURNING in VALUES order (Django's bulk_create
            # relies on the same).
            for obj, (value,) in zip(objs, cursor.fetchall(), strict=True):
                setattr(obj, pk.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


_deferred = threading.local()


@contextlib.contextmanager
def deferred_inserts():
    """Inside the block, `insert_later` queues its rows; the outermost block
    writes them when it ends, one multi-row INSERT per model, in the order
    queued (audit and timeline rows of a document step: two statements
    instead of one per row). When the block raises, the queue is dropped
    (the transaction rolls back anyway). Use it inside the transaction that
    owns the rows, around code that lets every error propagate — as
    `inventory.services.joined()`: rows queued by work that a caught error
    rolled back to a savepoint would still be written. Usable as a
    decorator; queued rows have no primary key until the block ends."""
    if getattr(_deferred, "queue", None) is not None:
        yield
        return
    _deferred.queue = queue = []
    try:
        yield
    finally:
        _deferred.queue = None
    by_model: dict = {}
    for obj in queue:
        by_model.setdefault(type(obj), []).append(obj)
    for objs in by_model.values():
        insert(objs)


def insert_later(obj) -> None:
    """`insert([obj])` now, or at the end of the `deferred_inserts()` block
    this runs in."""
    queue = getattr(_deferred, "queue", None)
    if queue is None:
        insert([obj])
    else:
        queue.append(obj)


def update(obj, fields, *, using: str = DEFAULT_DB_ALIAS) -> int:
    """UPDATE `fields` (names or attnames) of a saved instance, like
    `obj.save(update_fields=fields)`; returns the number of rows changed."""
    model = type(obj)
    meta = model._meta
    _check_signals(model)
    wanted = set(fields)
    targets = [
        f
        for f in meta.local_concrete_fields
        if (f.name in wanted or f.attname in wanted) and not f.primary_key
    ]
    if len(targets) != len(wanted):
        known = {f.name for f in targets} | {f.attname for f in targets}
        raise ValueError(f"prepared.update: unknown fields {sorted(wanted - known)}")
    connection = connections[using]
    qn = connection.ops.quote_name

    def build() -> str:
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in targets)
        return (
            f"UPDATE {qn(meta.db_table)} SET {assignments} "
            f"WHERE {qn(meta.pk.column)} = %s"
        )

    key = ("update", model, tuple(f.attname for f in targets))
    sql = _write_sql(connection, key, build)
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in targets]
    params.append(meta.pk.get_db_prep_value(obj.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
