"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi`.

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
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Behind the city's TLS proxy only: trust its X-Forwarded-* headers (BEHIND_TLS_PROXY).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
