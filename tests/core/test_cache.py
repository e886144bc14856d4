"""The shared cache falls back to the process's memory while Redis is unreachable
(apps.core.cache), and goes back to Redis when it returns. Against real redis-servers."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from apps.core.cache import FallbackRedisCache
from tests.faults.server import RedisServer, free_port
from tests.services import redis_url

pytestmark = pytest.mark.redis


def _cache(location: str, *, retry: float = 5) -> FallbackRedisCache:
    return FallbackRedisCache(
        location,
        {
            "KEY_PREFIX": f"test-cache-{location}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
            "RETRY_SECONDS": retry,
        },
    )


def test_with_redis_up_every_process_sees_the_same_counters() -> None:
    url = redis_url()
    one = FallbackRedisCache(url, {"KEY_PREFIX": f"test-cache-{time.monotonic_ns()}"})
    other = FallbackRedisCache(url, {"KEY_PREFIX": one.key_prefix})  # another web process
    assert one.add("signin:ip:10.0.0.1:n", 0, timeout=60)
    assert one.incr("signin:ip:10.0.0.1:n") == 1
    assert other.incr("signin:ip:10.0.0.1:n") == 2
    assert one.get("signin:ip:10.0.0.1:n") == 2
    assert one.fallback.get("signin:ip:10.0.0.1:n") is None  # nothing kept locally
    one.delete("signin:ip:10.0.0.1:n")


def test_with_redis_unreachable_the_counters_go_on_in_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = _cache(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        assert cache.add("n", 0, timeout=60)
        assert cache.incr("n") == 1
        assert cache.incr("n", 2) == 3
        assert cache.get("n") == 3
        assert cache.add("n", 0) is False  # add keeps its meaning
        cache.set_many({"a": 1, "b": 2}, timeout=60)
        assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
        assert cache.touch("a", 60)
        assert cache.has_key("b")
        cache.delete_many(["a", "b"])
        assert cache.get("a", "gone") == "gone"
        with pytest.raises(ValueError, match="not found"):
            cache.incr("missing")  # as RedisCache says of a missing key
    assert cache.redis_down
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings  # once per outage, not once per call
    assert "shared cache unreachable (ConnectionError)" in warnings[0]


def test_when_redis_returns_the_cache_goes_back_to_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redis = RedisServer(tmp_path)
    cache = _cache(redis.url, retry=0.2)
    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        cache.set("k", "local", timeout=60)  # down: kept in the process
        assert cache.redis_down
        redis.start()
        try:
            assert cache.get("k") == "local"  # within the retry pause: still the fallback
            time.sleep(0.3)
            assert cache.get("k") is None  # Redis again: what was counted locally stays local
            cache.set("k", "shared", timeout=60)
            assert not cache.redis_down
            fresh = FallbackRedisCache(redis.url, {"KEY_PREFIX": cache.key_prefix})
            assert fresh.get("k") == "shared"
        finally:
            redis.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert any("reachable again" in m for m in messages), messages


def test_every_thread_of_a_process_counts_in_the_same_fallback() -> None:
    """Django gives each thread its own cache object; a gthread web process has up to 128. The
    fallback must be the process's, or each thread would allow the full number of tries."""
    location = f"redis://127.0.0.1:{free_port()}/0"
    counts: list[int] = []

    def fail_once() -> None:
        cache = _cache(location)  # as caches["default"] in a new thread
        cache.add("signin:ip:10.0.0.9:n", 0, timeout=60)
        counts.append(cache.incr("signin:ip:10.0.0.9:n"))

    threads = [threading.Thread(target=fail_once) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [1, 2, 3, 4, 5]
