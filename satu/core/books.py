"""Invariant checks of the books (`satu check-books`): each domain registers
a function that recomputes its running balances from its ledger and returns
human-readable differences (an empty list when everything ties out)."""

from collections.abc import Callable

_checks: dict[str, Callable[[], list[str]]] = {}


def register_book_check(name: str, fn: Callable[[], list[str]]) -> None:
    """Register (or replace) the check called `name`."""
    _checks[name] = fn


def book_checks() -> dict[str, Callable[[], list[str]]]:
    return dict(_checks)


def check_books(names: list[str] | None = None) -> dict[str, list[str]]:
    """Run the checks (all, or those named) -> {name: differences}."""
    return {
        name: list(fn())
        for name, fn in sorted(_checks.items())
        if not names or name in names
    }
