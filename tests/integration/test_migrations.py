"""Migrations build the same schema on SQLite and PostgreSQL, and running them again is harmless."""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, MetaData, Table, func, insert, inspect, select

from relos.domain.agreements import Method
from relos.domain.money import Amount, to_minor
from relos.domain.orders import OrderDebt
from relos.services import ordering, settlement
from relos.storage import tables
from relos.storage.debt_tables import debt_days, debt_invoice_days, order_debts
from relos.storage.engine import (
    MIGRATIONS,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    upgrade,
)
from relos.storage.repositories import LedgerRepository, OrderRepository
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import NSN_OIL, NSN_OIL_COMMODITY, at, lifecycle, placed, world
from tests.integration.test_obligations import AS_OF, rounding_orders


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


def kept_row(d: OrderDebt, invoiced_on: date) -> tuple[object, ...]:
    """An `order_debts` row as the application writes it."""
    minor = to_minor(d.outstanding, d.commodity)
    return (
        d.order,
        d.commodity,
        d.agreement,
        d.creditor,
        d.debtor,
        d.method.value,
        minor,
        d.invoice,
        d.due_on,
        invoiced_on,
    )


def debt_books(engine: Engine) -> None:
    """Invoiced orders of every kind, written through the services: cash, replacement in kind
    and equal-value exchange, partly received, partly and fully paid, a payment reversed, in-kind
    debts converted to cash when overdue, receipt values ending in half a minor unit, debts in
    roubles, rupees and two in-kind commodities, and orders invoiced the same day between the
    same parties (one due date, summed in `debt_days`)."""
    uow = SqlUnitOfWork(engine)
    world(uow)
    lc = lifecycle(uow)
    water, rations = rounding_orders(uow)
    day = date(2026, 5, 4)  # the rounding orders' invoice day: two more debts due with theirs
    fuel = placed(uow, "IND", "cash", [("F76", "40"), ("WATER", "10")], day)
    ordering.receive(uow, "in_receive", fuel, [(1, "12.5"), (2, "0.020")], day, at(day, 12))
    ordering.invoice(uow, "ru_finance", fuel, day, at(day, 16))
    ordering.settle(uow, "in_finance", fuel, "100000.00", on=day, at=at(day, 17))
    more = placed(uow, "RUS", "cash", [("RATION", "7")], day)
    ordering.receive_all(uow, "ru_receive", more, day, at(day, 12))
    ordering.invoice(uow, "in_finance", more, day, at(day, 16))
    paid = placed(uow, "RUS", "cash", [("RATION", "2")], day)  # settled in full: owes nothing
    ordering.receive_all(uow, "ru_receive", paid, day, at(day, 12))
    ordering.invoice(uow, "in_finance", paid, day, at(day, 16))
    ordering.settle(uow, "ru_finance", paid, "901.00", on=day, at=at(day, 17))
    rik = placed(uow, "RUS", "rik", [("F76", "30"), (NSN_OIL, "20")], day)  # in kind, not due
    ordering.receive(uow, "ru_receive", rik, [(1, "8.125"), (2, "12.5")], day, at(day, 12))
    ordering.invoice(uow, "in_finance", rik, day, at(day, 16))
    ordering.settle(uow, "ru_finance", rik, "2.25", NSN_OIL_COMMODITY, day, at=at(day, 17))
    # in-kind debts past their window become cash debts; part of one paid, a payment reversed
    settlement.run(uow, "in_finance", AS_OF, at(AS_OF))
    settlement.run(uow, "ru_finance", AS_OF, at(AS_OF))
    ordering.settle(uow, "ru_finance", lc.rik_ru, "54500.00", "INR", AS_OF, at=at(AS_OF, 13))
    ordering.reverse(uow, "ru_finance", lc.rik_ru, 2, "keyed twice", at(AS_OF, 14))
    ordering.settle(uow, "ru_finance", lc.rik_ru, "4500.00", "INR", AS_OF, at=at(AS_OF, 15))
    del water, rations


def test_the_kept_debts_are_backfilled_from_the_invoiced_orders_already_there(
    engine: Engine,
) -> None:
    """A database from before the kept debts (revision 0012) with invoiced, partly paid,
    reversed and converted orders gets, row for row, the debts the order repository sums
    (`OrderRepository.debts`) with their invoice's day (0016), and the sums per due date
    and invoice day the application keeps; back at 0015, the sums per due date alone."""
    debt_books(engine)
    with engine.connect() as conn:
        kept_before = conn.execute(select(order_debts).order_by(*order_debts.c)).all()
        days_before = conn.execute(select(debt_days).order_by(*debt_days.c)).all()
        invoice_days = select(debt_invoice_days).order_by(*debt_invoice_days.c)
        invoice_days_before = conn.execute(invoice_days).all()
        summed = OrderRepository(conn).debts()
        inv = tables.invoices.c
        issued = dict(conn.execute(select(inv.number, inv.issued_on)).all())
    # the books cover what the backfill must handle
    assert {d.method for d in summed} == set(Method)
    assert {d.commodity for d in summed} >= {"INR", "RUB", "F76_T", NSN_OIL_COMMODITY}
    per_day = [(d.creditor, d.debtor, d.commodity, d.due_on) for d in summed]
    assert max(per_day.count(k) for k in per_day) > 1  # debts summed in one `debt_days` row
    assert sorted(kept_before) == sorted(kept_row(d, issued[d.invoice]) for d in summed)
    assert len({r.invoiced_on for r in kept_before}) > 1
    downgrade(engine, "0015_daily_index")
    assert "debt_invoice_days" not in inspect(engine).get_table_names()
    with engine.connect() as conn:  # the tables as 0015 left them, read as they are now
        old = MetaData()
        days_0015 = conn.execute(select(Table("debt_days", old, autoload_with=conn))).all()
        debts_0015 = conn.execute(select(Table("order_debts", old, autoload_with=conn))).all()
    assert sorted(tuple(r) for r in days_0015) == sorted(tuple(r) for r in days_before)
    assert sorted(tuple(r) for r in debts_0015) == sorted(r[:-1] for r in kept_before)
    downgrade(engine, "0012")  # the tables the backfill makes, gone
    assert not {"order_debts", "debt_days"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    with engine.connect() as conn:
        kept = conn.execute(select(order_debts).order_by(*order_debts.c)).all()
        days = conn.execute(select(debt_days).order_by(*debt_days.c)).all()
        invoice_days_after = conn.execute(invoice_days).all()
    assert kept == kept_before
    assert days == [r for r in days_before if r.amount_minor]
    assert invoice_days_after == [r for r in invoice_days_before if r.amount_minor]
    assert len({r.invoiced_on for r in invoice_days_after}) > 1
    assert current_revision(engine) == head_revision(engine)


def test_the_kept_debts_migration_imports_nothing_of_relos() -> None:
    """The backfill is frozen as of its revision: no repository, table or domain rule that a
    later change may alter is imported by it (decision 57)."""
    path = MIGRATIONS / "versions" / "0014_aging.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    ]
    assert "sqlalchemy" in imported  # the walk sees the imports
    assert [n for n in imported if n == "relos" or n.startswith("relos.")] == []
    assert "__import__" not in path.read_text(encoding="utf-8")
    assert "importlib" not in imported


def _daily_indexes(engine: Engine) -> dict[str, list[str | None]]:
    return {
        str(ix["name"]): list(ix["column_names"])
        for ix in inspect(engine).get_indexes("daily_balances")
    }


def test_on_sqlite_no_index_of_the_daily_balances_holds_the_amount(engine: Engine) -> None:
    """Changing a day's balance rewrites only its row on SQLite (migration 0015); PostgreSQL
    keeps the covering indexes its as-of query sums from."""
    if engine.dialect.name == "sqlite":
        assert _daily_indexes(engine) == {"ix_daily_balances_day": ["day"]}
    else:
        assert _daily_indexes(engine) == {
            "ix_daily_balances_day": ["day", "amount_minor"],
            "ix_daily_balances_book_day": ["book", "day", "amount_minor"],
        }


def test_the_daily_index_migration_goes_back_to_the_covering_indexes(engine: Engine) -> None:
    after = _daily_indexes(engine)
    downgrade(engine, "0014_aging")
    assert _daily_indexes(engine) == {
        "ix_daily_balances_day": ["day", "amount_minor"],
        "ix_daily_balances_book_day": ["book", "day", "amount_minor"],
    }
    upgrade(engine)
    assert _daily_indexes(engine) == after
    assert current_revision(engine) == head_revision(engine)


def _indexes(engine: Engine, table: str) -> dict[str, list[str | None]]:
    found = inspect(engine)
    named = {str(ix["name"]): list(ix["column_names"]) for ix in found.get_indexes(table)}
    for unique in found.get_unique_constraints(table):
        named[str(unique["name"])] = list(unique["column_names"])
    return named


def test_postings_are_indexed_by_entry_and_signatures_by_their_unique_key_alone(
    engine: Engine,
) -> None:
    """Migration 0017 drops the indexes no query needs: the postings' (book, on) and the
    signatures' order number, whose lookup the unique (order_number, seq) index serves."""
    assert _indexes(engine, "postings") == {"ix_postings_entry_id": ["entry_id"]}
    assert _indexes(engine, "signatures") == {"uq_signatures_order_seq": ["order_number", "seq"]}
    sql = (
        "SELECT order_number, action, digest FROM signatures"
        " WHERE order_number IN ('RELOS-IN-2026-000001', 'RELOS-IN-2026-000002') ORDER BY seq"
    )
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX sqlite_autoindex_signatures_1 (order_number=?)" in plan, plan
        else:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + sql))
            assert "uq_signatures_order_seq" in plan, plan


def test_the_unused_indexes_migration_goes_back_to_the_indexes_it_dropped(
    engine: Engine,
) -> None:
    postings, signatures = _indexes(engine, "postings"), _indexes(engine, "signatures")
    downgrade(engine, "0016_debts_as_of")
    assert _indexes(engine, "postings") == {**postings, "ix_postings_book_on": ["book", "on"]}
    assert _indexes(engine, "signatures") == {
        **signatures,
        "ix_signatures_order_number": ["order_number"],
    }
    upgrade(engine)
    assert _indexes(engine, "postings") == postings
    assert _indexes(engine, "signatures") == signatures
    assert current_revision(engine) == head_revision(engine)
