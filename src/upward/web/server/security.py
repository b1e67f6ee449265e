"""Secrets of the shared server: password hashes (argon2id), random tokens stored only as their
SHA-256, and CSRF tokens (an HMAC of the session under the server's secret key).

Examples
--------
>>> stored = hash_password("correct horse battery")
>>> stored.startswith("$argon2id$"), verify_password(stored, "correct horse battery")
(True, True)
>>> verify_password(stored, "wrong")
False
>>> token = new_token("upw")
>>> token.startswith("upw_"), len(token_hash(token))
(True, 64)
>>> key = b"k" * 32
>>> check_csrf(key, "seed", csrf_token(key, "seed")), check_csrf(key, "seed", "forged")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from upward.core.errors import ConfigError

_HASHER = PasswordHasher()
#: Shortest password ``upward users add`` accepts.
MIN_PASSWORD = 10
SECRET_FILE = "server-secret.key"


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; the only form a password is stored in).

    >>> hash_password("a long password") != hash_password("a long password")
    True
    """
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time in argon2).

    >>> verify_password("not a hash", "x")
    False
    """
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing.

    >>> check_password("short")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    upward.core.errors.ConfigError: the password has 5 characters...
    """
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password has {len(password)} characters, fewer than "
                          f"{MIN_PASSWORD}", fix=f"choose a password of {MIN_PASSWORD} "
                          "characters or more (a few words work well)")
    if len(password) > 1024:
        raise ConfigError("the password is longer than 1,024 characters",
                          fix="choose a shorter password")


def new_token(prefix: str) -> str:
    """A random token (256 bits) with a readable prefix.

    >>> new_token("upw") != new_token("upw")
    True
    """
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """SHA-256 of a token, hex: what the database keeps (tokens are random, so no salt is
    needed; a stolen table gives no usable token).

    >>> token_hash("x")[:8]
    '2d711642'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(key: bytes, seed: str) -> str:
    """The CSRF token a form carries for ``seed`` (the session, or a pre-login nonce).

    >>> len(csrf_token(b"k" * 32, "s"))
    64
    """
    return hmac.new(key, b"csrf:" + seed.encode("utf-8"), hashlib.sha256).hexdigest()


def check_csrf(key: bytes, seed: str, given: str | None) -> bool:
    """Whether ``given`` is the CSRF token for ``seed``.

    >>> check_csrf(b"k" * 32, "s", None)
    False
    """
    if not given or not seed:
        return False
    return hmac.compare_digest(csrf_token(key, seed), given)


def server_key(secrets_dir: Path) -> bytes:
    """The server's secret key (32 random bytes in ``secrets/server-secret.key``, mode 0600),
    made on first use and shared by every worker process.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> server_key(d) == server_key(d), len(server_key(d))
    (True, 32)
    """
    path = Path(secrets_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under a private name, then linked in: a worker never reads half a key.
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_bytes()
    if len(key) != 32:
        raise ConfigError(f"{path} is not a server key (expected 32 bytes)",
                          fix="delete it; a new one is made (everyone logs in again)")
    return key


__all__ = ["MIN_PASSWORD", "check_csrf", "check_password", "csrf_token", "hash_password",
           "new_token", "server_key", "token_hash", "verify_password"]
