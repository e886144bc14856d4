"""Tests that need an outside service skip locally when it is missing and fail under CI=true.

The CI promise (README): with CI=true nothing that needs PostgreSQL, Redis, pcscd or Chromium
may skip, so a missing service turns a green run red instead of quietly testing less.
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} is not available here (it is required under CI=true)")


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parts = urlsplit(url)
    require(tcp_open(parts.hostname or "127.0.0.1", parts.port or 6379), f"Redis at {url}")
    return url


def chromium_path() -> str:
    require(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}")
    return CHROMIUM
