"""Storage: SQLAlchemy 2 Core tables, repositories, the unit of work and Alembic migrations."""

# Every table module registers on the one MetaData that Alembic and the tests compare with.
from relos.storage import (
    auth_tables,  # noqa: F401
    conversion_tables,  # noqa: F401
    debt_tables,  # noqa: F401
    import_tables,  # noqa: F401
    reconciliation_tables,  # noqa: F401
    settlement_tables,  # noqa: F401
    visit_tables,  # noqa: F401
)
