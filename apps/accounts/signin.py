"""Limits on failed sign-ins, kept in the shared cache (Redis), so every worker counts together.

Two counters, both by the source address:
- per source address: at most SIGNIN_IP_FAILURES failures in SIGNIN_IP_WINDOW seconds, then
  that address waits out the window (password spraying from one machine);
- per (user name, source address): after SIGNIN_FAILURES_BEFORE_BACKOFF failures the next try
  waits SIGNIN_BACKOFF_SECONDS, doubling with each further failure up to SIGNIN_BACKOFF_MAX.

Keying the back-off by the source as well means a stranger who types a clerk's user name at
another machine slows down only themselves: the clerk at their own counter PC signs in as
usual. Guessing from many machines at once still meets the second factor.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

_PREFIX = "signin"


def _user_part(username: str) -> str:
    # Never the typed name itself in a key: it might be a password typed into the wrong field.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _pair_key(username: str, ip: str) -> str:
    return f"{_PREFIX}:pair:{_user_part(username)}:{ip}"


def _ip_key(ip: str) -> str:
    return f"{_PREFIX}:ip:{ip}"


@dataclass(frozen=True)
class Wait:
    seconds: int

    @property
    def message(self) -> str:
        minutes = max(1, -(-self.seconds // 60))
        return (
            f"ログインの失敗が続いたため、この端末からは約{minutes}分間ログインできません。"
            "急ぎの場合は監督者またはシステム管理者に連絡してください。"
        )


def wait_before_attempt(*, username: str, ip: str) -> Wait | None:
    """How long this source must wait before another try, or None."""
    now = time.time()
    ip_failures = cache.get(_ip_key(ip) + ":n", 0)
    if ip_failures >= settings.SIGNIN_IP_FAILURES:
        until = cache.get(_ip_key(ip) + ":until", now)
        return Wait(max(1, int(until - now)))
    until = cache.get(_pair_key(username, ip) + ":until")
    if until is not None and until > now:
        return Wait(max(1, int(until - now)))
    return None


def record_failure(*, username: str, ip: str) -> int:
    """Count one failure; returns the (user name, source) failures in a row."""
    now = time.time()
    ip_key = _ip_key(ip)
    if cache.add(ip_key + ":n", 0, timeout=settings.SIGNIN_IP_WINDOW):
        cache.set(ip_key + ":until", now + settings.SIGNIN_IP_WINDOW, settings.SIGNIN_IP_WINDOW)
    cache.incr(ip_key + ":n")

    pair = _pair_key(username, ip)
    keep = 24 * 3600  # a day without failures forgets the streak
    cache.add(pair + ":n", 0, timeout=keep)
    failures = cache.incr(pair + ":n")
    cache.touch(pair + ":n", keep)
    over = failures - settings.SIGNIN_FAILURES_BEFORE_BACKOFF
    if over >= 0:
        delay = min(settings.SIGNIN_BACKOFF_SECONDS * 2**over, settings.SIGNIN_BACKOFF_MAX)
        cache.set(pair + ":until", now + delay, timeout=int(delay) + 1)
    return int(failures)


def record_success(*, username: str, ip: str) -> None:
    """The right password from this source ends its streak (the per-address count stays)."""
    pair = _pair_key(username, ip)
    cache.delete_many([pair + ":n", pair + ":until"])
