"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi`.

Worker class gthread, not ASGI: every open live panel holds one event stream (up to
COUNTER_STREAM_SECONDS, then the browser reconnects), and a sync worker would be taken by each
for that long: 50 open panels would need 50 processes. gthread gives each stream a thread
that sleeps on an in-process event (apps.counters.streams), and keeps idle keep-alive
connections off the threads. ASGI would need an async stream and async-safe middleware
(allauth, pghistory, structlog run sync), and Django runs sync views under ASGI one at a time
per process (thread-sensitive), so every ordinary page would queue behind each other. Threads
are what the code already is.

Threads per process cover the open panels and the requests in flight: at least (open panels
/ workers) + 16; an open panel takes a thread for good (it reconnects after each stream), so
with fewer threads than panels ordinary pages queue behind streams for up to 30 s; the database pool
(DATABASE_POOL_MAX) covers only the requests in flight, since a waiting stream holds no
connection.

The access log is gunicorn's own, not Django's: a number typed into a URL would reach it
before any Django code runs, so its lines are scrubbed of 12-digit numbers here (R-MYN-2).
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from apps.core.logging import scrub


class ScrubbingLogger(Logger):
    """gunicorn's logger with every access-log atom and error line scrubbed."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: scrub(value) if isinstance(value, str) else value for key, value in atoms.items()
        }

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().error(scrub(str(msg)), *args, **kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().warning(scrub(str(msg)), *args, **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().exception(scrub(str(msg)), *args, **kwargs)


logger_class = ScrubbingLogger
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "128"))
# Stop: stop accepting, finish what is in flight (a live panel's stream ends within
# COUNTER_STREAM_SECONDS, 30), then exit. The orchestrator's grace period must be longer.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "35"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# An idle keep-alive connection waits in gthread's poller (no thread): cheap to keep. Longer
# than a clerk's pause between actions, so the browser does not send its next request on a
# connection the server is just closing (a reset the clerk would see as a failed page).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# A worker is replaced after this many requests (and a random jitter): a slow leak cannot grow.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Behind the city's TLS proxy only: trust its X-Forwarded-* headers (BEHIND_TLS_PROXY).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
