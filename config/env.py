"""Strict parsing of the environment for settings.

Every knob of the system comes from the environment (docs/architecture.md). A value that is set but
malformed is always an error at start-up, in every mode: a typo in production must not fall
back silently to a default. A missing value is an error only where `required` says so.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit


class ImproperlyConfiguredEnv(Exception):
    """A setting in the environment is missing or malformed; the message names it."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Env:
    environ: Mapping[str, str]

    def _get(self, name: str) -> str | None:
        """`NAME`, or the content of the file `NAME_FILE` names (Docker and Kubernetes secrets
        are files: a secret in a variable shows in `docker inspect` and in the environment of
        every child process). Trailing newlines are dropped. Both set, or a file that cannot be
        read, is an error at start-up."""
        value = self.environ.get(name)
        path = self.environ.get(f"{name}_FILE")
        if not path:
            return value
        if value:
            raise ImproperlyConfiguredEnv(f"set {name} or {name}_FILE, not both")
        try:
            with open(path, encoding="utf-8") as secret:
                return secret.read().rstrip("\r\n")
        except OSError as error:
            raise ImproperlyConfiguredEnv(
                f"{name}_FILE: cannot read {path} ({error.strerror})"
            ) from None

    def string(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self._get(name)
        if value is None or value == "":
            if required:
                raise ImproperlyConfiguredEnv(f"{name} must be set")
            if default is None:
                raise ImproperlyConfiguredEnv(f"{name} must be set (no default)")
            return default
        return value

    def optional(self, name: str) -> str | None:
        value = self._get(name)
        return value or None

    def boolean(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfiguredEnv(f"{name} must be true or false, not {value!r}")

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self._get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfiguredEnv(f"{name} must be an integer, not {value!r}") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfiguredEnv(f"{name} must be at least {minimum}")
        return number

    def strings(self, name: str, default: list[str]) -> list[str]:
        value = self._get(name)
        if value is None:
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._get(name) or default
        if value not in choices:
            raise ImproperlyConfiguredEnv(f"{name} must be one of {', '.join(choices)}")
        return value


def parse_database_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, object]:
    """`postgres://user:password@host:port/dbname?sslmode=require` to Django's DATABASES entry.

    Only PostgreSQL is accepted (docs/architecture.md: one engine everywhere). A socket directory
    may be given as `?host=/path`, the form libpq and the embedded server use.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfiguredEnv(f"{name} must be a postgres:// URL")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ImproperlyConfiguredEnv(f"{name} must name a database")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name} has a bad port") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dbname,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": query,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def parse_key_ring(value: str, *, name: str) -> dict[str, bytes]:
    """`kid1:<base64 32 bytes>,kid2:<base64 32 bytes>` to {kid: key}.

    Key ids let old ciphertexts stay readable while new ones use the active key (R-MYN-2).
    """
    ring: dict[str, bytes] = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep or not kid or not kid.isalnum() or len(kid) > 16:
            raise ImproperlyConfiguredEnv(f"{name}: each key is <id>:<base64>, id alphanumeric")
        ring[kid] = decode_key(encoded, name=f"{name}[{kid}]")
    if not ring:
        raise ImproperlyConfiguredEnv(f"{name} holds no key")
    return ring


def decode_key(encoded: str, *, name: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfiguredEnv(f"{name} is not valid base64") from None
    if len(key) != 32:
        raise ImproperlyConfiguredEnv(f"{name} must be 32 bytes (256 bits), got {len(key)}")
    return key


env = Env(os.environ)
