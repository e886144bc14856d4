"""Sending a job to the broker without letting a broker outage break the page that sent it.

Every job here is a row in the database first (a batch to render, a file to import) and a
message second. When Redis is down, `enqueue` logs and returns False instead of raising: the
clerk's page answers (its own transaction has committed), and the row waits in its pending
state. The beat's resume sweep (`jobs.resume`, config/celery.py) sends a message again for
every row still pending, so the jobs run once Redis is back. Tasks claim their row, so a
message sent twice does the work once.
"""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
import redis

logger = logging.getLogger(__name__)

# A page waits at most about this long for a broker that does not answer (then carries on).
PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.3,
}
BROKER_DOWN = (kombu.exceptions.OperationalError, redis.RedisError, ConnectionError, OSError)


def enqueue(task: Any, *args: str) -> bool:
    """`task.apply_async(args)`; False (logged, not raised) when the broker is unreachable.

    Arguments are ids only (never personal data: they are logged by the broker and workers).
    """
    try:
        task.apply_async(args=args, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except BROKER_DOWN as error:
        logger.warning(
            "job %s not queued, broker unreachable (%s); the resume sweep sends it again",
            getattr(task, "name", task),
            type(error).__name__,
        )
        return False
    return True
