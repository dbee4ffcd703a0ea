"""Gapless per-year document numbers (CLM-2026-0001, INV-2026-0001); keys may carry a
company or journal ("INV/3").

The counter row is locked (select_for_update) inside the caller's
transaction, so concurrent creations wait for each other and a rolled-back
creation gives its number back: no gaps, no duplicates. The unique
constraint on (key, year) guards the first number of a year."""

from django.db import IntegrityError, connection, transaction

from satu.core.models import NumberCounter


def next_number(key: str, year: int) -> int:
    """The next number for `key` in `year`; call inside a transaction.

    One statement in the usual case: the UPDATE takes the row lock and
    returns the new value."""
    q = connection.ops.quote_name
    sql = (
        f"UPDATE {q(NumberCounter._meta.db_table)} SET {q('last')} = {q('last')} + 1 "
        f"WHERE {q('key')} = %s AND {q('year')} = %s RETURNING {q('last')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, year])
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    try:
        # A savepoint: a concurrent first creation of the row only
        # rolls back this insert, and we then lock the winner's row.
        with transaction.atomic():
            NumberCounter.objects.create(key=key, year=year, last=0)
    except IntegrityError:
        pass
    counter = NumberCounter.objects.select_for_update().get(key=key, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def formatted(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:04d}"
