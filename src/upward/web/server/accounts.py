"""Users, tenants and memberships, sessions, API tokens and login throttling.

A user has a role in each tenant (city) they belong to: ``viewer``, ``analyst`` or ``admin``.
Passwords are kept as argon2id hashes; sessions and API tokens as the SHA-256 of a random
token, so the database never holds anything that logs in. Disabling a user ends their sessions
and revokes their tokens. Five failed logins for one name within 15 minutes (or thirty from one
address) lock further attempts for the rest of the window.

Examples
--------
>>> check_username("ana.lopez")
'ana.lopez'
>>> check_slug("tulsa")
'tulsa'
>>> role_at_least("admin", "analyst"), role_at_least("viewer", "analyst")
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from upward.core.errors import ConfigError, UpwardError
from upward.core.text import N_
from upward.web.server import db
from upward.web.server.security import (
    check_password,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
#: Failed logins that lock a name (or, times six, an address) for the window.
MAX_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
#: Verified against when the name is unknown, so both answers take as long.
_DUMMY_HASH = hash_password("no such user: timing only")


class LoginError(UpwardError):
    """The name or password is wrong, or the account is disabled (one message for all).

    >>> str(LoginError("wrong name or password"))
    'wrong name or password'
    """


class ThrottledError(UpwardError):
    """Too many failed logins; ``retry_after`` seconds until the next attempt is heard.

    >>> e = ThrottledError(300)
    >>> e.retry_after, e.fix
    (300, 'wait 6 minutes, or ask an administrator')
    """

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(N_("too many failed logins for this account or address"),
                         fix=N_("wait {minutes} minutes, or ask an administrator",
                                minutes=retry_after // 60 + 1))


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user, their role in each tenant (by tenant id), and how they
    authenticated (``session`` or ``token``).

    >>> Principal(1, "ana", {3: "viewer"}, "session").role_in(3)
    'viewer'
    """

    user_id: int
    username: str
    roles: dict[int, str] = field(default_factory=dict)
    via: str = "session"
    session_hash: str | None = None

    def role_in(self, tenant_id: int) -> str | None:
        """The user's role in a tenant, None when not a member.

        >>> Principal(1, "ana", {}).role_in(3) is None
        True
        """
        return self.roles.get(tenant_id)


def now() -> datetime:
    """The current time, timezone-aware (UTC).

    >>> now().tzinfo is UTC
    True
    """
    return datetime.now(UTC)


def role_at_least(role: str | None, needed: str) -> bool:
    """Whether ``role`` can do what ``needed`` can.

    >>> role_at_least(None, "viewer")
    False
    """
    return role in db.ROLES and db.ROLES.index(role) >= db.ROLES.index(needed)


def check_username(name: str) -> str:
    """A valid user name (lowercase letters, digits, ``.``, ``_``, ``-``; 2 to 64).

    >>> check_username("Bad Name")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    upward.core.errors.ConfigError: user name 'Bad Name' ...
    """
    if not isinstance(name, str) or not USERNAME.match(name):
        raise ConfigError(f"user name {name!r} is not allowed",
                          fix="use 2 to 64 lowercase letters, digits, '.', '_' or '-', "
                          "starting with a letter or digit")
    return name


def check_slug(slug: str) -> str:
    """A valid tenant (city) identifier: 2 to 40 lowercase letters, digits or ``-``.

    >>> check_slug("../x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    upward.core.errors.ConfigError: tenant '../x' is not allowed...
    """
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise ConfigError(f"tenant {slug!r} is not allowed",
                          fix="use 2 to 40 lowercase letters, digits or '-', e.g. tulsa")
    return slug


def check_role(role: str) -> str:
    """A known role.

    >>> check_role("owner")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    upward.core.errors.ConfigError: --role 'owner' is not a role...
    """
    if role not in db.ROLES:
        raise ConfigError(f"--role {role!r} is not a role", fix=f"use one of {', '.join(db.ROLES)}")
    return role


# ----------------------------------------------------------------------------------------------
# Tenants and users
# ----------------------------------------------------------------------------------------------


def tenant_by_slug(conn: Connection, slug: str):
    """The tenant row called ``slug``, or None."""
    return conn.execute(sa.select(db.tenants).where(db.tenants.c.slug == slug)).first()


def ensure_tenant(conn: Connection, slug: str, name: str | None = None):
    """The tenant called ``slug``, made when it does not exist yet."""
    check_slug(slug)
    row = tenant_by_slug(conn, slug)
    if row is None:
        conn.execute(sa.insert(db.tenants).values(slug=slug, name=name or slug,
                                                  created_at=now()))
        row = tenant_by_slug(conn, slug)
    return row


def user_by_name(conn: Connection, username: str):
    """The user row called ``username``, or None."""
    return conn.execute(sa.select(db.users).where(db.users.c.username == username)).first()


def add_user(engine: Engine, username: str, *, tenant: str, role: str,
             password: str | None) -> tuple[bool, str]:
    """Add ``username`` with ``role`` in ``tenant`` (made if new). A new user needs a password;
    for an existing user the membership is added or changed. Returns (created, message).
    """
    check_username(username)
    check_slug(tenant)
    check_role(role)
    with engine.begin() as conn:
        user = user_by_name(conn, username)
        if user is None:
            if password is None:
                raise ConfigError(f"user {username!r} is new and needs a password",
                                  fix="give --password-stdin, or answer the prompt")
            check_password(password)
            user_id = conn.execute(sa.insert(db.users).values(
                username=username, password_hash=hash_password(password), disabled=False,
                created_at=now()).returning(db.users.c.id)).scalar_one()
        else:
            user_id = user.id
        t = ensure_tenant(conn, tenant)
        conn.execute(sa.delete(db.memberships).where(db.memberships.c.user_id == user_id,
                                                     db.memberships.c.tenant_id == t.id))
        conn.execute(sa.insert(db.memberships).values(user_id=user_id, tenant_id=t.id,
                                                      role=role))
        _audit(conn, None, t.id, "change", "user", username,
               f"{'added' if user is None else 'membership set'}: {role} in {tenant}")
    if user is None:
        return True, f"added {username} as {role} in {tenant}"
    return False, f"{username} is now {role} in {tenant}"


def list_users(engine: Engine, tenant: str | None = None) -> list[dict]:
    """Every user (of ``tenant`` when given): name, disabled, roles by tenant, live tokens."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(db.users.c.id, db.users.c.username, db.users.c.disabled,
                      db.tenants.c.slug, db.memberships.c.role)
            .select_from(db.users.outerjoin(db.memberships).outerjoin(db.tenants))
            .order_by(db.users.c.username)).all()
        tokens = dict(conn.execute(
            sa.select(db.api_tokens.c.user_id, sa.func.count())
            .where(db.api_tokens.c.revoked_at.is_(None)).group_by(db.api_tokens.c.user_id)).all())
    out: dict[str, dict] = {}
    for r in rows:
        entry = out.setdefault(r.username, {"username": r.username, "disabled": r.disabled,
                                            "roles": {}, "tokens": tokens.get(r.id, 0)})
        if r.slug:
            entry["roles"][r.slug] = r.role
    users = list(out.values())
    if tenant is not None:
        check_slug(tenant)
        users = [u for u in users if tenant in u["roles"]]
    return users


def _require_user(conn: Connection, username: str):
    check_username(username)
    user = user_by_name(conn, username)
    if user is None:
        raise ConfigError(f"there is no user {username!r}",
                          fix="check the name with `upward users list`")
    return user


def disable_user(engine: Engine, username: str) -> str:
    """Disable ``username``: no more logins, sessions ended, API tokens revoked."""
    with engine.begin() as conn:
        user = _require_user(conn, username)
        conn.execute(sa.update(db.users).where(db.users.c.id == user.id).values(disabled=True))
        conn.execute(sa.delete(db.sessions).where(db.sessions.c.user_id == user.id))
        conn.execute(sa.update(db.api_tokens).where(db.api_tokens.c.user_id == user.id,
                                                    db.api_tokens.c.revoked_at.is_(None))
                     .values(revoked_at=now()))
        _audit(conn, None, None, "change", "user", username, "disabled")
    return f"disabled {username}: sessions ended, API tokens revoked"


def create_token(engine: Engine, username: str, label: str = "api") -> tuple[int, str]:
    """A new API token for ``username``: (its id, the token, shown once and never stored)."""
    if not label or len(label) > 100:
        raise ConfigError("--label must have 1 to 100 characters", fix="give a short label")
    token = new_token("upw")
    with engine.begin() as conn:
        user = _require_user(conn, username)
        if user.disabled:
            raise ConfigError(f"user {username!r} is disabled",
                              fix="add the user again with `upward users add` to re-enable")
        token_id = conn.execute(sa.insert(db.api_tokens).values(
            user_id=user.id, token_hash=token_hash(token), label=label, created_at=now())
            .returning(db.api_tokens.c.id)).scalar_one()
        _audit(conn, None, None, "change", "api_token", str(token_id),
               f"issued to {username} ({label})")
    return token_id, token


def revoke_token(engine: Engine, token_id: int) -> str:
    """Revoke API token ``token_id``."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(db.api_tokens).where(db.api_tokens.c.id == token_id)).first()
        if row is None:
            raise ConfigError(f"there is no API token {token_id}",
                              fix="see the ids with `upward users token NAME --list`")
        conn.execute(sa.update(db.api_tokens).where(db.api_tokens.c.id == token_id)
                     .values(revoked_at=row.revoked_at or now()))
        _audit(conn, None, None, "change", "api_token", str(token_id), "revoked")
    return f"revoked API token {token_id}"


def list_tokens(engine: Engine, username: str) -> list[dict]:
    """The API tokens of ``username`` (id, label, created, revoked), never the tokens."""
    with engine.connect() as conn:
        user = _require_user(conn, username)
        rows = conn.execute(sa.select(db.api_tokens).where(db.api_tokens.c.user_id == user.id)
                            .order_by(db.api_tokens.c.id)).all()
    return [{"id": r.id, "label": r.label, "created_at": r.created_at,
             "revoked": r.revoked_at is not None} for r in rows]


# ----------------------------------------------------------------------------------------------
# Logging in
# ----------------------------------------------------------------------------------------------


def _failures(conn: Connection, column, value: str, since: datetime) -> tuple[int, datetime | None]:
    row = conn.execute(sa.select(sa.func.count(), sa.func.min(db.login_attempts.c.at))
                       .where(column == value, db.login_attempts.c.at > since,
                              db.login_attempts.c.ok.is_(False))).one()
    return int(row[0]), row[1]


def authenticate(engine: Engine, username: str, password: str, ip: str) -> int:
    """The user id for a correct name and password; LoginError or ThrottledError otherwise.
    Every attempt is recorded (for throttling) and successful ones are audited."""
    username = (username or "").strip().lower()[:64]
    ip = (ip or "?")[:64]
    t = now()
    since = t - THROTTLE_WINDOW
    with engine.begin() as conn:
        by_name, first_name = _failures(conn, db.login_attempts.c.username, username, since)
        by_ip, first_ip = _failures(conn, db.login_attempts.c.ip, ip, since)
        if by_name >= MAX_FAILURES or by_ip >= MAX_FAILURES * 6:
            first = first_name if by_name >= MAX_FAILURES else first_ip
            wait = int(((first or t) + THROTTLE_WINDOW - t).total_seconds()) + 1
            raise ThrottledError(max(wait, 1))
        user = user_by_name(conn, username) if USERNAME.match(username) else None
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password or "")
        ok = ok and user is not None and not user.disabled
        conn.execute(sa.insert(db.login_attempts).values(username=username, ip=ip, at=t, ok=ok))
        if ok:
            _audit(conn, user, None, "login", "session", None, f"from {ip}")
    if not ok:
        raise LoginError(N_("the user name or password is not right"),
                         fix=N_("try again; after five failures the account waits 15 minutes"))
    return user.id


def open_session(engine: Engine, user_id: int, hours: float) -> str:
    """A new session for ``user_id``: the cookie's token (only its hash is stored)."""
    token = new_token("ses")
    t = now()
    with engine.begin() as conn:
        conn.execute(sa.insert(db.sessions).values(
            token_hash=token_hash(token), user_id=user_id, created_at=t,
            expires_at=t + timedelta(hours=hours)))
    return token


def close_session(engine: Engine, session_hash: str) -> None:
    """End a session (logging out)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(db.sessions).where(db.sessions.c.token_hash == session_hash))


def _principal(conn: Connection, user, via: str, session_hash: str | None) -> Principal:
    roles = dict(conn.execute(sa.select(db.memberships.c.tenant_id, db.memberships.c.role)
                              .where(db.memberships.c.user_id == user.id)).all())
    return Principal(user.id, user.username, roles, via, session_hash)


def principal_from_session(conn: Connection, token: str | None) -> Principal | None:
    """The logged-in user of a session cookie; None for no, expired or ended sessions."""
    if not token or len(token) > 200:
        return None
    h = token_hash(token)
    row = conn.execute(sa.select(db.users).join(db.sessions)
                       .where(db.sessions.c.token_hash == h, db.sessions.c.expires_at > now(),
                              db.users.c.disabled.is_(False))).first()
    return _principal(conn, row, "session", h) if row else None


def principal_from_token(conn: Connection, token: str | None) -> Principal | None:
    """The user of an API token; None for unknown or revoked tokens and disabled users."""
    if not token or len(token) > 200:
        return None
    row = conn.execute(sa.select(db.users).join(db.api_tokens)
                       .where(db.api_tokens.c.token_hash == token_hash(token),
                              db.api_tokens.c.revoked_at.is_(None),
                              db.users.c.disabled.is_(False))).first()
    return _principal(conn, row, "token", None) if row else None


def _audit(conn: Connection, user, tenant_id: int | None, action: str, kind: str,
           object_id: str | None, detail: str) -> None:
    conn.execute(sa.insert(db.audit).values(
        at=now(), user_id=getattr(user, "id", None),
        username=getattr(user, "username", None) or "(command line)", tenant_id=tenant_id,
        action=action, object_kind=kind, object_id=object_id, detail=detail[:2000]))


__all__ = ["LoginError", "Principal", "ThrottledError", "add_user", "authenticate",
           "check_role", "check_slug", "check_username", "close_session", "create_token",
           "disable_user", "ensure_tenant", "list_tokens", "list_users", "now", "open_session",
           "principal_from_session", "principal_from_token", "revoke_token", "role_at_least"]
