"""Alembic's environment for the server database: runs migrations on the engine the caller
passed in ``config.attributes['engine']`` (see :func:`upward.web.server.db.migrate`)."""

from __future__ import annotations

from alembic import context

from upward.web.server.db import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
