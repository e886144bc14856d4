"""`deploy/serve-prod.sh` for fault tests: the production stack (gunicorn gthread, a Celery
worker, beat) on the test database, with a Redis of the test's own, and a browser-like
client that signs in through the real form and TOTP step."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from apps.accounts.mfa import totp_code
from tests import dbrole
from tests.auth import TEST_TOTP_SECRET
from tests.services import require

ROOT = Path(settings.BASE_DIR)
PASSWORD = "test-pass-123456"  # tests/conftest.py's _user


def production_password(user: Any) -> None:
    """The tests hash with MD5 for speed (tests/conftest.py); the production server knows
    only the real hashers: give `user` a PBKDF2 hash of PASSWORD."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    condition: Any, *, seconds: float, what: str, output: Callable[[], str] | None = None
) -> None:
    """Poll `condition` until it holds; on time-out fail with `output()` (say a process's
    log), so a failure on CI shows what the process did."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            shown = f"\n--- output:\n{output()[-4000:]}" if output is not None else ""
            pytest.fail(f"timed out waiting for {what}{shown}")
        time.sleep(0.1)


class RedisServer:
    """A redis-server of the test's own on its own port (never the machine's)."""

    def __init__(self, tmp_path: Path) -> None:
        binary = shutil.which("redis-server")
        require(binary is not None, "redis-server")
        assert binary is not None
        self.binary = binary
        self.port = free_port()
        self.dir = tmp_path / "redis"
        self.dir.mkdir()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, seconds=20, what="redis-server to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@dataclass
class ProdServer:
    """serve-prod's three processes, started in their own process group."""

    base: str
    logs: Path
    process: subprocess.Popen[bytes]

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _secrets_sharing_the_session_key(directory: Path) -> None:
    """serve-prod's secret files, with this test process's SECRET_KEY: the second factors a
    test enrols here are sealed under a key derived from it (apps.accounts.mfa), and the
    server must open them. The other keys are the server's own (deploy/make_secrets.py)."""
    if not (directory / "secret_key").exists():
        subprocess.run([sys.executable, str(ROOT / "deploy" / "make_secrets.py"), str(directory)],
                       check=True, capture_output=True)  # fmt: skip
        (directory / "secret_key").write_text(settings.SECRET_KEY + "\n")


@contextlib.contextmanager
def serve_prod(
    tmp_path: Path,
    *,
    redis: str,
    database_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> Iterator[ProdServer]:
    """serve-prod on the test database (or `database_url`), secrets in tmp_path/secrets."""
    port = free_port()
    logs = tmp_path / "serve-prod"
    _secrets_sharing_the_session_key(tmp_path / "secrets")
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "CI"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        {
            "DATABASE_URL": database_url or dbrole.database_url(owner=True),
            "REDIS_URL": redis,
            "PORT": str(port),
            "SERVE_PROD_SECRETS": str(tmp_path / "secrets"),
            "SERVE_PROD_LOGS": str(logs),
            # The test database is migrated and its roles applied by the test session.
            "SERVE_PROD_SKIP_MIGRATE": "1",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "8",
            "DATABASE_POOL_MAX": "4",
            "WORKER_CONCURRENCY": "1",
            "CELERY_QUEUE": f"fault-{port}",
            "LOG_FORMAT": "console",
            **(extra or {}),
        }
    )
    if os.environ.get("MADOGUCHI_APP_PASSWORD"):
        env["MADOGUCHI_APP_PASSWORD"] = os.environ["MADOGUCHI_APP_PASSWORD"]
    out = (tmp_path / "serve-prod.out").open("wb")
    process = subprocess.Popen(
        [str(ROOT / "deploy" / "serve-prod.sh")],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = ProdServer(base=f"http://127.0.0.1:{port}", logs=logs, process=process)

    def up() -> bool:
        if process.poll() is not None:
            pytest.fail("serve-prod exited:\n" + (tmp_path / "serve-prod.out").read_text())
        try:
            return httpx.get(server.base + "/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(up, seconds=120, what="serve-prod to answer")
        wait_for(lambda: "ready." in server.log("worker"), seconds=60, what="the worker")
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        out.close()


@dataclass
class Browser:
    """Cookies kept by hand: production's `__Host-` (Secure) cookies over plain HTTP."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    password: str = PASSWORD
    totp_secret: str = TEST_TOTP_SECRET
    verify: bool | ssl.SSLContext = True  # trusts a test's own TLS proxy

    def request(self, method: str, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method == "POST":
            headers |= {"Origin": self.base, "Referer": self.base + path}
            data = {"csrfmiddlewaretoken": self.csrf(), **(data or {})}
        response = httpx.request(
            method, self.base + path, data=data, headers=headers, timeout=30, verify=self.verify
        )
        for raw in response.headers.get_list("set-cookie"):
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in raw.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return self.request("POST", path, data)

    def csrf(self) -> str:
        name = next((n for n in self.cookies if n.endswith("csrftoken")), None)
        return self.cookies[name] if name else ""

    def sign_in(self, username: str) -> None:
        """The real form, then the TOTP step (the user has `totp_secret` enrolled)."""
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"login": username, "password": self.password})
        location = response.headers.get("location", "")
        assert response.status_code == 302, response.text[:500]
        if "/2fa/" in location:
            path = httpx.URL(location).path
            self.get(path)
            response = self.post(path, {"code": totp_code(self.totp_secret)})
        assert response.status_code == 302, response.text[:500]
        assert "/accounts/" not in response.headers.get("location", "")
