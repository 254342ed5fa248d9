"""Migrations build the same schema on SQLite and PostgreSQL, and running them again is harmless."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, insert, inspect, select

from relos.domain.money import Amount
from relos.storage import tables
from relos.storage.engine import current_revision, head_revision, make_engine, upgrade
from relos.storage.repositories import LedgerRepository


def test_migrations_create_every_table_and_column_of_the_schema(engine: Engine) -> None:
    found = inspect(engine)
    names = set(found.get_table_names())
    assert set(tables.metadata.tables) <= names
    assert "alembic_version" in names
    for name, table in tables.metadata.tables.items():
        columns = {c["name"] for c in found.get_columns(name)}
        assert columns == {c.name for c in table.columns}, name


def test_migrated_database_is_at_the_head_revision(engine: Engine) -> None:
    head = head_revision(engine)
    assert head is not None
    assert current_revision(engine) == head


def test_upgrade_is_idempotent(engine: Engine) -> None:
    before = inspect(engine).get_table_names()
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert inspect(engine).get_table_names() == before


def test_the_daily_balances_are_backfilled_from_the_postings_already_there(
    tmp_path: Path,
) -> None:
    """A database with postings from before the daily table (revision 0007) gets each key's
    day's net change, and the balances as of any day equal the postings summed up to it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0007")
        a = Amount(Decimal("10.25"), "INR")
        rows = [
            ("IND", "T1", date(2026, 1, 1), a),
            ("IND", "T2", date(2026, 1, 1), a),
            ("IND", "T3", date(2026, 1, 3), -a),
            ("RUS", "T1", date(2026, 1, 2), a),
        ]
        with engine.begin() as conn:
            for book, txn, on, amount in rows:
                entry_id = conn.execute(
                    insert(tables.ledger_entries).values(
                        book=book,
                        txn=txn,
                        on=on,
                        event="receipt",
                        order_number="O1",
                        description="",
                    )
                ).inserted_primary_key
                assert entry_id is not None
                for account, x in (("receivable", amount), ("support_provided", -amount)):
                    conn.execute(
                        insert(tables.postings).values(
                            entry_id=entry_id[0],
                            book=book,
                            on=on,
                            account=account,
                            counterparty="RUS" if book == "IND" else "IND",
                            method="cash",
                            commodity="INR",
                            amount_minor=x.minor,
                        )
                    )
            # the kept balances, which every version since 0001 wrote with its postings
            p = tables.postings.c
            key = [p.book, p.account, p.counterparty, p.method, p.commodity]
            conn.execute(
                insert(tables.balances).from_select(
                    [c.name for c in key] + ["amount_minor"],
                    select(*key, func.sum(p.amount_minor)).group_by(*key),
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            daily = conn.execute(
                select(
                    tables.daily_balances.c.book,
                    tables.daily_balances.c.day,
                    tables.daily_balances.c.amount_minor,
                )
                .where(tables.daily_balances.c.account == "receivable")
                .order_by(tables.daily_balances.c.book, tables.daily_balances.c.day)
            ).all()
            assert [tuple(r) for r in daily] == [
                ("IND", date(2026, 1, 1), 2050),
                ("IND", date(2026, 1, 3), -1025),
                ("RUS", date(2026, 1, 2), 1025),
            ]
            monthly = conn.execute(
                select(
                    tables.monthly_balances.c.month, tables.monthly_balances.c.amount_minor
                ).where(
                    tables.monthly_balances.c.account == "receivable",
                    tables.monthly_balances.c.book == "IND",
                )
            ).all()
            assert [tuple(r) for r in monthly] == [(date(2026, 1, 1), 1025)]
            ledger = LedgerRepository(conn)
            for day in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2), date(2026, 2, 9)):
                assert ledger.balances(as_of=day) == ledger.summed_balances(as_of=day)
    finally:
        engine.dispose()


def test_the_kept_debts_are_backfilled_from_the_invoiced_orders_already_there(
    tmp_path: Path,
) -> None:
    """A database from before the kept debts (revision 0012) with invoiced, partly paid and
    converted orders gets each order's debts and their sums per due date, as summed from
    receipts, settlements and conversions."""
    from relos.services import settlement
    from relos.storage.debt_tables import debt_days, order_debts
    from relos.storage.unit_of_work import SqlUnitOfWork
    from tests.integration.builders import at, lifecycle, world
    from tests.integration.test_obligations import AS_OF, rounding_orders

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine)
        uow = SqlUnitOfWork(engine)
        world(uow)
        lifecycle(uow)
        rounding_orders(uow)
        settlement.run(uow, "in_finance", AS_OF, at(AS_OF))
        with engine.begin() as conn:  # back to 0012: the tables the backfill makes, gone
            kept_before = conn.execute(select(order_debts).order_by(*order_debts.c)).all()
            days_before = conn.execute(select(debt_days).order_by(*debt_days.c)).all()
            debt_days.drop(conn)
            order_debts.drop(conn)
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0012'")
        upgrade(engine)
        with engine.connect() as conn:
            kept = conn.execute(select(order_debts).order_by(*order_debts.c)).all()
            days = conn.execute(select(debt_days).order_by(*debt_days.c)).all()
        assert kept_before
        assert kept == kept_before
        assert [r for r in days if r.amount_minor] == [r for r in days_before if r.amount_minor]
        assert current_revision(engine) == head_revision(engine)
    finally:
        engine.dispose()
