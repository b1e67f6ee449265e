"""The shared server: accounts, roles, tenants (one per city), restricted program data,
evaluations run in the browser and the audit log, kept in PostgreSQL.

``upward serve --database postgresql://…`` (or ``[server] database`` in ``upward.toml``) adds
these to the public site; without a database the site is the single-user one. The modules:

- :mod:`.db` -- the tables, the engine and the Alembic migrations;
- :mod:`.security` -- password hashing (argon2), tokens, CSRF;
- :mod:`.accounts` -- users, memberships, sessions, API tokens, login throttling;
- :mod:`.access` -- the one data-access layer every restricted route goes through;
- :mod:`.uploads` -- program-file checks (size, type, content) and preview;
- :mod:`.routes` -- the pages and the JSON API.
"""
