"""`storage/bulk_insert.converter`: the values the bulk paths hand the driver are what the column
type itself would store, however often a value comes back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import Dialect, create_engine

from relos.storage import tables as t
from relos.storage.bulk_insert import converter


def dialect(url: str) -> Dialect:
    return create_engine(url).dialect  # unconnected


def test_a_time_is_stored_as_its_column_would_even_after_an_equal_instant_in_another_zone() -> None:
    """SQLite keeps a time as its zone's clock time: midnight UTC and 03:00 in Moscow are the
    same instant (equal keys) but two texts, though midnight UTC is converted once and kept."""
    sqlite = dialect("sqlite://")
    at = converter(sqlite, t.signatures, "at")
    stored = t.signatures.c["at"].type.dialect_impl(sqlite).bind_processor(sqlite)
    assert stored is not None
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    moscow = midnight.astimezone(timezone(timedelta(hours=3)))
    naive = datetime(2026, 3, 1, 9, 30)
    assert moscow == midnight
    for value in (midnight, moscow, midnight, naive, moscow, naive, midnight):
        assert at(value) == stored(value)
    assert at(moscow) != at(midnight)


def test_a_day_is_stored_as_its_column_would_and_none_stays_none() -> None:
    due_on = converter(dialect("sqlite://"), t.invoices, "due_on")
    assert [due_on(date(2026, 3, 31)), due_on(date(2026, 3, 31)), due_on(None)] == [
        "2026-03-31",
        "2026-03-31",
        None,
    ]


def test_where_the_driver_converts_by_itself_a_value_goes_as_it_is() -> None:
    at = converter(dialect("postgresql+psycopg://"), t.signatures, "at")
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    assert at(midnight) is midnight
