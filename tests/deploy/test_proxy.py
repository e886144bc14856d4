"""deploy/nginx.conf, as shipped, in front of the production server (serve-prod).

The file is the compose proxy's `conf.d/default.conf`; the test changes only what the machine
decides (the upstream's and the listeners' addresses, the certificate's path: each replaced
exactly once, so an edit of the file that moves them fails here first) and runs it in a
master-less nginx of its own, with a certificate it makes for 127.0.0.1. Then, through the
proxy: plain HTTP answers the probe and redirects the rest to HTTPS; HTTPS reaches the
application, which trusts the proxy's X-Forwarded-Proto (no redirect loop, Secure cookies,
HSTS); a clerk signs in; the live panel's event stream arrives as it is written, not when it
ends; a body over the upload limit is refused by nginx.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from apps.accounts.models import User
from tests.auth import enrol_totp
from tests.faults.server import Browser, free_port, production_password, serve_prod, wait_for
from tests.services import redis_url, require

pytestmark = pytest.mark.redis

CONFIG = Path(settings.BASE_DIR) / "deploy" / "nginx.conf"
STREAM_SECONDS = 6


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "madoguchi.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    crt, pem = directory / "server.crt", directory / "server.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem.chmod(0o600)
    return crt, pem


def _site(*, web: int, http: int, https: int, crt: Path, key: Path) -> str:
    text = CONFIG.read_text()
    for shipped, here in (
        ("server web:8000;", f"server 127.0.0.1:{web};"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("/etc/nginx/tls/server.crt", str(crt)),
        ("/etc/nginx/tls/server.key", str(key)),
    ):
        assert text.count(shipped) == 1, f"deploy/nginx.conf: expected {shipped!r} once"
        text = text.replace(shipped, here)
    return text


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Any]:
    found = shutil.which("nginx")
    require(found is not None, "nginx (Debian's nginx-light)")
    assert found is not None
    binary: str = found
    root = tmp_path / "nginx"
    root.mkdir()
    crt, key = _certificate(root)

    class Proxy:
        http = free_port()
        https = free_port()
        ca = ssl.create_default_context(cafile=str(crt))
        process: subprocess.Popen[bytes] | None = None

        def start(self, web: int) -> None:
            (root / "site.conf").write_text(
                _site(web=web, http=self.http, https=self.https, crt=crt, key=key)
            )
            # The compose image's nginx.conf, reduced to what the site needs, in tmp_path.
            (root / "nginx.conf").write_text(
                f"master_process off;\ndaemon off;\npid {root}/nginx.pid;\n"
                f"error_log {root}/error.log warn;\nevents {{ worker_connections 128; }}\n"
                f"http {{\n  access_log {root}/access.log;\n"
                + "".join(
                    f"  {kind}_temp_path {root}/{kind};\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                )
                + f"  include {root}/site.conf;\n}}\n"
            )
            checked = subprocess.run(
                [binary, "-t", "-p", str(root), "-c", str(root / "nginx.conf")],
                capture_output=True,
                text=True,
                check=False,
            )
            assert checked.returncode == 0, checked.stderr
            self.process = subprocess.Popen(
                [binary, "-p", str(root), "-c", str(root / "nginx.conf")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_for(self._answers, seconds=20, what="nginx to listen")

        def _answers(self) -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{self.http}/healthz", timeout=1).is_success
            except httpx.TransportError:
                return False

        def log(self) -> str:
            path = root / "error.log"
            return path.read_text() if path.exists() else ""

    proxy = Proxy()
    try:
        yield proxy
    finally:
        if proxy.process is not None:
            proxy.process.terminate()
            proxy.process.wait(timeout=10)


def test_the_shipped_proxy_config_in_front_of_serve_prod(
    tmp_path: Path, transactional_db: Any, clerk_a: User, nginx: Any
) -> None:
    enrol_totp(clerk_a)
    production_password(clerk_a)
    assert clerk_a.counter is not None
    extra = {
        # As compose runs web behind the proxy: trust its X-Forwarded-Proto, redirect to HTTPS.
        "BEHIND_TLS_PROXY": "true",
        "SECURE_SSL_REDIRECT": "true",
        "COUNTER_STREAM_SECONDS": str(STREAM_SECONDS),
    }
    with serve_prod(tmp_path, redis=redis_url(), extra=extra) as server:
        nginx.start(web=int(server.base.rsplit(":", 1)[1]))
        plain = f"http://127.0.0.1:{nginx.http}"
        secure = f"https://127.0.0.1:{nginx.https}"

        # Plain HTTP: the probe is answered, everything else is sent to HTTPS.
        assert httpx.get(plain + "/healthz").json() == {"status": "ok"}
        moved = httpx.get(plain + "/residents/")
        assert moved.status_code == 301
        assert moved.headers["location"] == "https://127.0.0.1/residents/"  # port 443

        # HTTPS: the application sees https (no redirect back), sets Secure cookies and HSTS.
        login = httpx.get(secure + "/accounts/login/", verify=nginx.ca)
        assert login.status_code == 200, login.text[:500]
        assert "max-age=" in login.headers["strict-transport-security"]
        assert all("secure" in c.lower() for c in login.headers.get_list("set-cookie"))
        assert login.headers["server"] == "nginx"  # server_tokens off: no version

        clerk = Browser(secure, verify=nginx.ca)
        clerk.sign_in(clerk_a.username)
        assert clerk.get("/residents/").status_code == 200

        # The live panel's stream: its first line arrives at once, its end after the
        # stream's seconds. Buffered by the proxy, both would come together at the end.
        cookies = "; ".join(f"{k}={v}" for k, v in clerk.cookies.items())
        started = time.monotonic()
        first: float | None = None
        with httpx.stream(
            "GET",
            secure + "/counters/live/stream/?after=0",
            headers={"Cookie": cookies, "Accept": "text/event-stream"},
            verify=nginx.ca,
            timeout=STREAM_SECONDS * 3,
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            for chunk in stream.iter_raw():
                if first is None and b"retry:" in chunk:
                    first = time.monotonic() - started
        ended = time.monotonic() - started
        assert first is not None, "the stream's first line never came"
        assert ended - first > STREAM_SECONDS / 2, (first, ended, nginx.log())

        # The upload limit (client_max_body_size 17m) is the proxy's: refused before the app.
        too_big = httpx.post(
            secure + "/accounts/login/", content=b"x" * (18 * 1024 * 1024), verify=nginx.ca
        )
        assert too_big.status_code == 413
