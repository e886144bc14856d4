"""The shared cache (Redis) with a fallback in the process while Redis cannot be reached.

What the cache holds is small and short-lived: failed sign-in counters (apps.accounts.signin),
allauth's used TOTP codes and its rate limits. With plain ``RedisCache`` every one of those
raises when Redis is down, and nobody can sign in until it is back, although sessions and
every page live in PostgreSQL. ``FallbackRedisCache`` answers from a local memory cache
instead: the limits then count per web process rather than per city (weaker by the number of
processes, still limits, and the second factor stands either way), and a warning is logged
once per outage. After a failure Redis is left alone for ``RETRY_SECONDS`` (so each request
does not wait for a connection attempt); then the next call tries it again. What was counted
locally is not copied back when Redis returns: a streak of failures starts again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


@dataclass
class _Outage:
    """Whether this process finds Redis at one location unreachable, and until when it waits."""

    down_until: float = 0.0
    outage: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_OUTAGES: dict[str, _Outage] = {}
_OUTAGES_LOCK = threading.Lock()


class FallbackRedisCache(RedisCache):
    """``RedisCache`` that falls back to this process's memory while Redis is unreachable.

    CACHES options: the usual ``LOCATION`` and ``OPTIONS`` (give ``socket_connect_timeout`` and
    ``socket_timeout``, so that an unreachable host fails fast), and ``RETRY_SECONDS``
    (default 5): how long to use the fallback before trying Redis again.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.retry_seconds = float(params.get("RETRY_SECONDS", 5))
        # Django makes one cache object per thread (gthread: up to 128 per process). The
        # fallback's store and the outage state belong to the process: LocMemCache keeps its
        # data by name, and _Outage is kept by location, so every thread counts together.
        self.fallback = LocMemCache(
            f"madoguchi-fallback:{server}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                # A counter floor's sign-ins and used codes for a whole outage (default 300).
                "OPTIONS": {"MAX_ENTRIES": 20_000},
            },
        )
        with _OUTAGES_LOCK:
            self._state = _OUTAGES.setdefault(server, _Outage())

    @property
    def redis_down(self) -> bool:
        return time.monotonic() < self._state.down_until

    def _either(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self.redis_down:
            try:
                result = getattr(RedisCache, method)(self, *args, **kwargs)
            except _UNREACHABLE as exc:
                self._went_down(exc)
            else:
                if self._state.outage:
                    with self._state.lock:
                        back, self._state.outage = self._state.outage, False
                    if back:
                        logger.warning("shared cache reachable again")
                return result
        return getattr(self.fallback, method)(*args, **kwargs)

    def _went_down(self, exc: Exception) -> None:
        with self._state.lock:
            first = not self._state.outage
            self._state.outage = True
            self._state.down_until = time.monotonic() + self.retry_seconds
        if first:
            logger.warning(
                "shared cache unreachable (%s): counting in this process, retrying every %.0f s",
                type(exc).__name__,
                self.retry_seconds,
            )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return bool(self._either("add", key, value, timeout, version))

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._either("get", key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._either("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return bool(self._either("touch", key, timeout, version))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return bool(self._either("delete", key, version))

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return dict(self._either("get_many", keys, version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return bool(self._either("has_key", key, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return int(self._either("incr", key, delta, version))

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return list(self._either("set_many", data, timeout, version))

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._either("delete_many", keys, version)

    def clear(self) -> None:
        self._either("clear")
