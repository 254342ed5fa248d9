"""import jobs and imported orders' references (issue 6: bulk import)

Revision ID: 0012
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("orders_total", sa.Integer(), nullable=False),
        sa.Column("last_line", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("orders_done", sa.Integer(), nullable=False),
        sa.Column("entries_done", sa.Integer(), nullable=False),
        sa.Column("batches_done", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
        sa.UniqueConstraint("kind", "sha256", name="uq_import_jobs_kind_sha256"),
    )
    op.create_table(
        "order_references",
        sa.Column("order_number", sa.String(length=40), nullable=False),
        sa.Column("requesting", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_number"],
            ["orders.number"],
            name=op.f("fk_order_references_order_number_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["import_jobs.id"], name=op.f("fk_order_references_job_id_import_jobs")
        ),
        sa.PrimaryKeyConstraint("order_number", name=op.f("pk_order_references")),
        sa.UniqueConstraint(
            "requesting", "reference", name="uq_order_references_requesting_reference"
        ),
    )
    op.create_index(op.f("ix_order_references_job_id"), "order_references", ["job_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_order_references_job_id"), table_name="order_references")
    op.drop_table("order_references")
    op.drop_table("import_jobs")
