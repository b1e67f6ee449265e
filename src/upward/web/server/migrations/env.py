"""Alembic's environment for the server database: runs migrations on the engine the caller
passed in ``config.attributes['engine']`` (see :func:`upward.web.server.db.migrate`)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from upward.web.server.db import metadata

#: Held for the migration's transaction: workers starting together migrate one at a time.
LOCK_KEY = 0x75707764

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    connection.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
