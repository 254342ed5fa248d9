"""visits, their units and notices (issue: visits and voyage planning)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("agreement", sa.String(length=20), nullable=False),
        sa.Column("visiting", sa.String(length=3), nullable=False),
        sa.Column("host", sa.String(length=3), nullable=False),
        sa.Column("facility", sa.String(length=20), nullable=False),
        sa.Column("use", sa.String(length=30), nullable=False),
        sa.Column("arrival", sa.Date(), nullable=False),
        sa.Column("departure", sa.Date(), nullable=False),
        sa.Column("commander_name", sa.String(length=200), nullable=False),
        sa.Column("commander_rank", sa.String(length=100), nullable=False),
        sa.Column("frequencies", sa.JSON(), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("pilot", sa.Boolean(), nullable=False),
        sa.Column("tugs", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement"], ["agreements.code"], name=op.f("fk_visits_agreement_agreements")
        ),
        sa.ForeignKeyConstraint(
            ["facility"], ["facilities.code"], name=op.f("fk_visits_facility_facilities")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_visits")),
    )
    op.create_index(op.f("ix_visits_agreement"), "visits", ["agreement"])
    op.create_table(
        "visit_units",
        sa.Column("visit", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("personnel", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit"], ["visits.number"], name=op.f("fk_visit_units_visit_visits")
        ),
        sa.ForeignKeyConstraint(["unit"], ["units.code"], name=op.f("fk_visit_units_unit_units")),
        sa.PrimaryKeyConstraint("visit", "unit", name=op.f("pk_visit_units")),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("visit", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("visit")
    op.drop_table("visit_units")
    op.drop_index(op.f("ix_visits_agreement"), table_name="visits")
    op.drop_table("visits")
