"""Tables. Money and quantities are integers (minor units, thousandths); never floats.

The SQL stays portable between SQLite and PostgreSQL: no engine-only features.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

parties = Table(
    "parties",
    metadata,
    Column("code", String(3), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("native_name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("components", JSON, nullable=False),
)

agreements = Table(
    "agreements",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("title", Text, nullable=False),
    Column("document", JSON, nullable=False),
)

facilities = Table(
    "facilities",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("party", String(3), ForeignKey("parties.code"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("document", JSON, nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("code", String(30), primary_key=True),
    Column("party", String(3), ForeignKey("parties.code"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("document", JSON, nullable=False),
)

price_items = Table(
    "price_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("supplier", String(3), ForeignKey("parties.code"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(40), nullable=False),
    Column("unit_of_measure", String(40), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("commodity", String(60), nullable=False),
    Column("illustrative", Boolean, nullable=False),
    UniqueConstraint("supplier", "code", "valid_from", name="uq_price_items_supplier_code_from"),
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("party", String(3), ForeignKey("parties.code"), nullable=False),
    Column("role", String(30), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("password_hash", String(255), nullable=True),
)

order_sequences = Table(
    "order_sequences",
    metadata,
    Column("prefix", String(40), primary_key=True),
    Column("last", Integer, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("agreement", String(20), ForeignKey("agreements.code"), nullable=False, index=True),
    Column("requesting", String(3), nullable=False, index=True),
    Column("supplying", String(3), nullable=False, index=True),
    Column("facility", String(20), ForeignKey("facilities.code"), nullable=False),
    Column("unit", String(30), ForeignKey("units.code"), nullable=False),
    Column("method", String(10), nullable=False),
    Column("use", String(30), nullable=False),
    Column("required_by", Date, nullable=False),
    Column("created_on", Date, nullable=False),
    Column("state", String(30), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_number", String(40), ForeignKey("orders.number"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("item_code", String(40), nullable=False),
    Column("quantity_milli", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(40), nullable=True),
    Column("unit_of_measure", String(40), nullable=False),
    Column("unit_price_minor", BigInteger, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("commodity", String(60), nullable=False),
)

receipts = Table(
    "receipts",
    metadata,
    Column("order_number", String(40), ForeignKey("orders.number"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("received_on", Date, nullable=False),
    Column("digest", String(64), nullable=False),
)

receipt_lines = Table(
    "receipt_lines",
    metadata,
    Column("order_number", String(40), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("quantity_milli", BigInteger, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("number", String(60), primary_key=True),
    Column("order_number", String(40), ForeignKey("orders.number"), nullable=False, index=True),
    Column("issued_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("value_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amounts", JSON, nullable=False),
)

settlements = Table(
    "settlements",
    metadata,
    Column("order_number", String(40), ForeignKey("orders.number"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("on", Date, nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("commodity", String(60), nullable=False),
    Column("note", Text, nullable=False),
    Column("reverses", Integer, nullable=True),
)

signatures = Table(
    "signatures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # found by order through the unique (order_number, seq) index: no index of its own (0017)
    Column("order_number", String(40), ForeignKey("orders.number"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(20), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("role", String(30), nullable=False),
    Column("party", String(3), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("note", Text, nullable=False),
    UniqueConstraint("order_number", "seq", name="uq_signatures_order_seq"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("book", String(3), nullable=False),
    Column("txn", String(80), nullable=False),
    Column("on", Date, nullable=False),
    Column("event", String(20), nullable=False),
    Column("order_number", String(40), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("reverses", String(80), nullable=True),
    UniqueConstraint("book", "txn", name="uq_ledger_entries_book_txn"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", Integer, ForeignKey("ledger_entries.id"), nullable=False, index=True),
    Column("book", String(3), nullable=False),
    Column("on", Date, nullable=False),
    Column("account", String(40), nullable=False),
    Column("counterparty", String(3), nullable=False),
    Column("method", String(10), nullable=False),
    Column("commodity", String(60), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    # found by entry only: balances come from the kept tables, a book's postings are a scan
    # (0017 dropped the index on (book, on))
)

balances = Table(
    "balances",
    metadata,
    Column("book", String(3), primary_key=True),
    Column("account", String(40), primary_key=True),
    Column("counterparty", String(3), primary_key=True),
    Column("method", String(10), primary_key=True),
    Column("commodity", String(60), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
)

# The day's net change per balance key: balances as of a date sum at most (keys x days) rows of
# it instead of every posting. Kept in step with the postings in the same transaction, like
# `balances`. The primary key (key, then day) is the index an as-of sum scans; on SQLite the
# table is stored in that index (WITHOUT ROWID), so the scan reads no other page.
daily_balances = Table(
    "daily_balances",
    metadata,
    Column("book", String(3), primary_key=True),
    Column("account", String(40), primary_key=True),
    Column("counterparty", String(3), primary_key=True),
    Column("method", String(10), primary_key=True),
    Column("commodity", String(60), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    # PostgreSQL: the days of one month, covered (of every book, and of one book), for its
    # as-of query. SQLite reads a key's days as one range of the primary key and needs the day
    # alone (the first and last kept day): an index holding the amount would be rewritten on
    # every change of a day's balance (migration 0015).
    Index("ix_daily_balances_day", "day", "amount_minor").ddl_if(dialect="postgresql"),
    Index("ix_daily_balances_book_day", "book", "day", "amount_minor").ddl_if(dialect="postgresql"),
    Index("ix_daily_balances_day", "day").ddl_if(dialect="sqlite"),
    sqlite_with_rowid=False,
)

# The month's net change per balance key (`month` is the month's first day): balances as of a
# day sum the whole months before it here and that month's days in `daily_balances`, so at
# most keys x (months + 31) rows, whatever the length of the history.
monthly_balances = Table(
    "monthly_balances",
    metadata,
    Column("book", String(3), primary_key=True),
    Column("account", String(40), primary_key=True),
    Column("counterparty", String(3), primary_key=True),
    Column("method", String(10), primary_key=True),
    Column("commodity", String(60), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
