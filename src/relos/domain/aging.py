"""Aging: what is owed, by how long it has been overdue on a day.

An obligation's **days overdue** on a day is the number of days since its due date, never less
than zero (the obligations listing's rule: due today is not yet overdue). Aging groups the open
obligations per debtor, creditor and commodity into five **bands** of days overdue: not yet due
(0), 1-30, 31-60, 61-90 and over 90.
"""

from __future__ import annotations

from datetime import date, timedelta

#: the bands: (name, first day overdue, last day overdue or None for no end)
BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("not_due", 0, 0),
    ("days_1_30", 1, 30),
    ("days_31_60", 31, 60),
    ("days_61_90", 61, 90),
    ("over_90", 91, None),
)
BAND_NAMES: tuple[str, ...] = tuple(name for name, _, _ in BANDS)


def days_overdue(due_on: date, as_of: date) -> int:
    return max(0, (as_of - due_on).days)


def band(days: int) -> int:
    """The band (index into `BANDS`) of a number of days overdue."""
    for i, (_, _, last) in enumerate(BANDS):
        if last is None or days <= last:
            return i
    raise AssertionError("the last band has no end")


def band_starts(as_of: date) -> tuple[date, ...]:
    """Per band but the last, the earliest due date it holds on `as_of`: an obligation due on
    or after `band_starts(as_of)[i]` (and before the previous band's start) is in band i."""
    return tuple(as_of - timedelta(days=last) for _, _, last in BANDS if last is not None)
