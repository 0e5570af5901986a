"""Alembic environment: runs on the engine handed over by :func:`alembic_config`."""

from alembic import context

from mailport.adapters.storage import (
    tables_domains,  # noqa: F401  (registers the domain tables)
    tables_inbox,  # noqa: F401  (registers the inbox tables)
    tables_oauth,  # noqa: F401  (registers the OAuth tables)
    tables_outbox,  # noqa: F401  (registers the outbox tables)
    tables_sessions,  # noqa: F401  (registers the web-page session tables)
    tables_suppression,  # noqa: F401  (registers the suppression list)
)
from mailport.adapters.storage.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
