"""Real Celery workers for tests: `celery -A config worker` processes on Redis, each test
with a queue of its own, pointed at the test database as the application's role (the test
must commit its data: ``transactional_db``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests import dbrole
from tests.services import redis_url


def database_url() -> str:
    """DATABASE_URL of the test database as this process uses it (the application's role)."""
    return dbrole.database_url()


@contextlib.contextmanager
def celery_workers(
    tmp_path: Path,
    *,
    count: int,
    prefix: str,
    pool: str = "solo",
    broker: str | None = None,
    processes: list[subprocess.Popen[bytes]] | None = None,
) -> Iterator[tuple[str, str]]:
    """``count`` workers consuming a fresh queue; yields (broker URL, queue name).

    ``pool="prefork"`` runs each task in a child process (one per worker), as production
    does: a fault test kills the child. ``processes`` receives the worker processes."""
    broker = broker or redis_url()
    queue = f"{prefix}-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "REDIS_URL": broker,
        "DATABASE_URL": database_url(),
        "CELERY_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    logs = [tmp_path / f"worker{n}.log" for n in range(1, count + 1)]
    processes = [] if processes is None else processes
    for n, log in enumerate(logs, start=1):
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        f"--pool={pool}",
                        "--concurrency=1",
                        "--prefetch-multiplier=1",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "-n",
                        f"w{n}-{queue}@%h",
                        "--loglevel=INFO",
                    ],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while not all("ready." in log.read_text(errors="replace") for log in logs):
            for process, log in zip(processes, logs, strict=True):
                if process.poll() is not None:
                    pytest.fail(f"a worker exited early:\n{log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail("the workers did not start within 60 s")
            time.sleep(0.2)
        yield broker, queue
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # The queue's bindings stay in Redis after the workers: remove ours, only ours.
        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        client.close()
