"""Tables for visits (port calls and deployments) and their units; the link from an order.

A visit's units are rows of their own so that caps can be counted without reading the units'
records (kind and personnel are copied at notice time, as the notice gave them).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, String, Table, Text

from relos.storage.tables import metadata, orders

visits = Table(
    "visits",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("agreement", String(20), ForeignKey("agreements.code"), nullable=False, index=True),
    Column("visiting", String(3), nullable=False),
    Column("host", String(3), nullable=False),
    Column("facility", String(20), ForeignKey("facilities.code"), nullable=False),
    Column("use", String(30), nullable=False),
    Column("arrival", Date, nullable=False),
    Column("departure", Date, nullable=False),
    Column("commander_name", String(200), nullable=False),
    Column("commander_rank", String(100), nullable=False),
    Column("frequencies", JSON, nullable=False),
    Column("notified_on", Date, nullable=False),
    Column("pilot", Boolean, nullable=False),
    Column("tugs", Integer, nullable=False),
    Column("requests", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    # amendments and cancellation (migration 0010): the row holds the latest revision; every
    # revision is in the audit log with what it changed
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("amended_on", Date, nullable=True),
    Column("cancelled_on", Date, nullable=True),
    Column("cancelled_by", String(64), nullable=False, server_default=""),
    Column("cancel_reason", Text, nullable=False, server_default=""),
)

visit_units = Table(
    "visit_units",
    metadata,
    Column("visit", String(40), ForeignKey("visits.number"), primary_key=True),
    Column("unit", String(30), ForeignKey("units.code"), primary_key=True),
    Column("seq", Integer, nullable=False),  # the order the notice lists the units in
    Column("kind", String(20), nullable=False),
    Column("personnel", Integer, nullable=False),
)

# An order may name the visit it supports (nullable: orders outside any visit stay possible).
if "visit" not in orders.c:
    orders.append_column(Column("visit", String(40), nullable=True))
