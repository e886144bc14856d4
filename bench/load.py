"""A counter floor under load: Locust, headless, on the loopback, against `make serve-prod`.

    .venv/bin/python bench/load.py --build 100000            # make the data set (mg_load)
    .venv/bin/python bench/load.py --clerks 50 --duration 180
    .venv/bin/python bench/load.py --database mg_load3m --clerks 200 --duration 180

What it does:

1. with ``--build N``: creates the database ``--database`` (default ``mg_load``) on the server
   of DATABASE_URL and fills it with N cards by bench/pages.py's set-based generators (the
   same data as the big-city bench). Without it the database is used as it is (e.g. a copy of
   bench/pages.py's kept ``madoguchi_bench_pages``: ``createdb -T madoguchi_bench_pages …``),
   or built with 100,000 cards when it does not exist;
2. prepares it for the floor (idempotent): every member of staff gets the demo TOTP secret,
   and there are ``--clerks`` load clerks (``load_clerk_NNN``), each at a counter of their own
   in the five offices with an approved reader device (a fresh Ed25519 key, so reads are
   signed as the real agent signs them: reader_agent/madoguchi_agent/httpsig.py);
3. starts ``deploy/serve-prod.sh`` (gunicorn gthread + Celery worker + beat, production
   settings, bench-only keys matching the data's blind index) and waits for /readyz;
4. runs Locust in this process for ``--duration`` seconds, all users spawned at
   ``--spawn-rate`` a second, then stops the server (SIGTERM: graceful) and prints the figures.

Who does what (the mix):

- **clerk** (``--clerks`` of them): signs in through the real form and the TOTP step, opens the
  live counter page and keeps its event stream open the whole time (reconnecting when the
  server ends it every COUNTER_STREAM_SECONDS, as the browser does), and like a person at a
  counter waits 2–8 s between actions: searches residents by a common surname (weight 10),
  opens a resident page (10), the uncollected cards list (2), and every few minutes (weight
  1: one action in 23, so about every 2 minutes) runs a procedure: opens the reissue form
  of a resident with an active card, submits it (reissue, lost, with certificates) and pays
  the fee in cash (two writes);
- **reader agent** (one per clerk's counter): posts a signed card read of a resident of its
  office every 20–40 s (a write; the clerk's open stream shows it);
- **supervisor** (one): her home (what waits, at /reports/), one of the reports (activity,
  stock, money, the expiry wave, security), the notice batches and the daily close, every
  5–10 s;
- **baseline** (as many as clerks): GET /healthz every 2–8 s, in the same run.

Reads are the clerks' and the supervisor's GETs and searches; writes are the procedure's two
POSTs and the agents' reads. The stream itself is not timed (it lasts 30 s by design); a
stream that fails to open is an error. The last line:
``clerks=N reads_p95_ms=… writes_p95_ms=… baseline_p95_ms=… read_ratio=… write_ratio=… errors=…``.
Exits 1 on any error.
"""

from __future__ import annotations

# Locust patches the standard library for gevent: first, before anything else imports it.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import base64  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import pages  # noqa: E402  (bench/pages.py: the generators, the bench keys)

DEMO_TOTP_SECRET = "MADOGUCHIDEMOTOTPSECRETXYZ234567"  # apps/demo/seed.py's  # noqa: S105
PASSWORD = pages.PASSWORD
COMMON_KANA = pages.COMMON_SURNAMES


# --- the data ---------------------------------------------------------------------------------


def _urls(database: str) -> tuple[str, str]:
    """The load database's URL and the maintenance database's (to create it)."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        raise SystemExit("DATABASE_URL must name the PostgreSQL server (any database on it)")
    parts = urlsplit(base)
    return (
        urlunsplit(parts._replace(path="/" + database)),
        urlunsplit(parts._replace(path="/postgres", scheme="postgresql")),
    )


def build(database: str, cards: int) -> None:
    import psycopg
    from psycopg import sql

    url, admin = _urls(database)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    os.environ.update(pages.production_environment(url))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    print(f"generating {cards} cards into {database} …", flush=True)
    pages.generate(cards, timezone.localdate())


def _exists(database: str) -> bool:
    import psycopg

    _, admin = _urls(database)
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    return found is not None


@dataclass
class Floor:
    clerks: list[dict[str, str]]  # username, counter id, device id, private key (b64)
    supervisor: str
    residents: dict[str, list[str]]  # office code → resident ids with an active card
    serials: dict[str, list[str]]  # office code → AUTH certificate serials of active cards


def prepare(database: str, clerks: int) -> Floor:
    """TOTP for everyone, the load clerks with counters and devices (idempotent)."""
    url, _ = _urls(database)
    os.environ.update(pages.production_environment(url))
    import django

    django.setup()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.mfa import has_authenticator, totp_enrol
    from apps.accounts.models import Counter, Office, User
    from apps.accounts.roles import Role
    from apps.counters.httpsig import fingerprint
    from apps.counters.models import Device, DeviceState

    call_command("migrate", verbosity=0, interactive=False)
    offices = list(Office.objects.order_by("code"))
    password = make_password(PASSWORD)
    for n in range(clerks):
        office = offices[n % len(offices)]
        counter, _ = Counter.objects.get_or_create(
            office=office, code=f"L{n:03d}", defaults={"name": f"負荷{n:03d}番窓口"}
        )
        User.objects.get_or_create(
            username=f"load_clerk_{n:03d}",
            defaults={
                "password": password,
                "role": Role.CLERK,
                "office": office,
                "counter": counter,
                "last_name": "負荷",
                "first_name": f"{n:03d}",
            },
        )
    for user in User.objects.filter(is_active=True):
        if not has_authenticator(user):
            totp_enrol(user, secret=DEMO_TOTP_SECRET)
    # One approved device per load counter, with a key made now (the old one is revoked).
    floor_clerks = []
    now = timezone.now()
    for user in User.objects.filter(username__startswith="load_clerk_").order_by("username")[
        :clerks
    ]:
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        Device.objects.filter(counter=user.counter, state=DeviceState.APPROVED).update(
            state=DeviceState.REVOKED, revoked_at=now
        )
        device = Device.objects.create(
            name=f"load-{user.username}",
            public_key=public,
            fingerprint=fingerprint(public),
            state=DeviceState.APPROVED,
            counter=user.counter,
            approved_at=now,
        )
        private = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        floor_clerks.append(
            {
                "username": user.username,
                "office": user.office.code,
                "device": device.fingerprint,
                "key": base64.b64encode(private).decode(),
            }
        )
    with connection.cursor() as cursor:
        # The generators insert a year of payments with receipt numbers but leave the
        # offices' receipt counters empty: the floor's first payment would take number 1
        # again (a unique violation). Counters continue from the data's numbers.
        cursor.execute(
            "INSERT INTO fees_receiptcounter (office_id, fiscal_year, last_number) "
            "SELECT office_id, fiscal_year, max(receipt_number) FROM fees_payment "
            "GROUP BY office_id, fiscal_year "
            "ON CONFLICT (office_id, fiscal_year) DO UPDATE "
            "SET last_number = GREATEST(fees_receiptcounter.last_number, EXCLUDED.last_number)"
        )
    residents: dict[str, list[str]] = defaultdict(list)
    serials: dict[str, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.code, r.id::text, cert.serial FROM residents_resident r "
            "JOIN accounts_office o ON o.id = r.office_id "
            "JOIN cards_card c ON c.resident_id = r.id AND c.state = 'active' "
            "JOIN certificates_certificate cert ON cert.card_id = c.id AND cert.kind = 'auth' "
            "WHERE r.id IN (SELECT resident_id FROM cards_card WHERE state = 'active' "
            "               ORDER BY id LIMIT 20000) "
            "AND NOT EXISTS (SELECT 1 FROM applications_application a "
            "                WHERE a.resident_id = r.id AND a.state IN ('received', 'paid')) "
            "LIMIT 6000"
        )
        for office, resident, serial in cursor.fetchall():
            residents[office].append(resident)
            serials[office].append(serial)
    connection.close()
    return Floor(
        clerks=floor_clerks, supervisor="supervisor_1_0", residents=residents, serials=serials
    )


# --- the server -------------------------------------------------------------------------------


def _secrets_dir(url: str) -> Path:
    """The bench keys (bench/pages.py, matching the data's blind index) as secret files."""
    env = pages.production_environment(url)
    directory = Path(tempfile.mkdtemp(prefix="mg-load-secrets-"))
    values = {
        # The key the floor was built with: the clerks' TOTP keys are sealed under it.
        "secret_key": env["SECRET_KEY"],
        "my_number_keys": env["MY_NUMBER_KEYS"],
        "my_number_active_key_id": env["MY_NUMBER_ACTIVE_KEY_ID"],
        "my_number_index_key": env["MY_NUMBER_INDEX_KEY"],
    }
    for name, value in values.items():
        path = directory / name
        path.write_text(value + "\n")
        path.chmod(0o600)
    return directory


def start_server(args: argparse.Namespace, url: str) -> tuple[subprocess.Popen[bytes], Path]:
    logs = ROOT / "var" / "log" / "load"
    logs.mkdir(parents=True, exist_ok=True)
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TZ"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        {
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "SERVE_PROD_SECRETS": str(_secrets_dir(url)),
            "SERVE_PROD_LOGS": str(logs),
            "PORT": str(args.port),
            "GUNICORN_WORKERS": str(args.workers),
            "GUNICORN_THREADS": str(args.threads),
            "DATABASE_POOL_MAX": str(args.pool),
            "GUNICORN_ACCESS_LOG": "/dev/null",
            "LOG_LEVEL": "WARNING",
            "CELERY_QUEUE": f"load-{uuid.uuid4().hex[:8]}",
        }
    )
    out = (logs / "serve-prod.out").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own script
        [str(ROOT / "deploy" / "serve-prod.sh")],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve-prod exited; see {logs}")
        try:
            if httpx.get(f"http://127.0.0.1:{args.port}/readyz", timeout=2).status_code == 200:
                return process, logs
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"serve-prod did not become ready; see {logs}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- the floor --------------------------------------------------------------------------------

READ, WRITE, BASELINE = "read", "write", "baseline"


@dataclass
class Record:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_name: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Off once the run ends: requests cut short by stopping the users are not the server's.
    open: bool = True

    def add(self, kind: str, ms: float, name: str = "") -> None:
        with self.lock:
            if self.open:
                self.times[kind].append(ms)
                self.by_name[name or kind].append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            if self.open:
                self.errors.append(what)


RECORD = Record()
FLOOR: Floor | None = None
CLERK_POOL: list[dict[str, str]] = []
POOL_LOCK = threading.Lock()


def _totp(username: str, at: float | None = None) -> str:
    """The current code: the load clerks have the demo secret, the generated staff
    bench/pages.py's secret of their name."""
    import hashlib
    import hmac
    import struct

    secret = DEMO_TOTP_SECRET if username.startswith("load_") else pages.totp_secret(username)
    key = base64.b32decode(secret)
    counter = struct.pack(">Q", int((time.time() if at is None else at) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    (value,) = struct.unpack(">I", digest[offset : offset + 4])
    return f"{(value & 0x7FFFFFFF) % 1_000_000:06d}"


def _users(host: str) -> list[type]:
    import re

    from locust import HttpUser, between, task
    from requests.adapters import HTTPAdapter

    class FromAddress(HTTPAdapter):
        """Connections from one loopback address of 127.0.0.0/8: each counter PC has its own
        address, as on the city's network (sign-in limits and the access log are per
        address; fifty PCs behind one address would be a different floor)."""

        def __init__(self, address: str) -> None:
            self.address = address
            super().__init__()

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = (self.address, 0)
            super().init_poolmanager(*args, **kwargs)

    addresses = iter(f"127.0.{n // 250}.{2 + n % 250}" for n in range(100_000))

    class Browser(HttpUser):
        """Cookies by hand: production's `__Host-`/Secure cookies over the loopback's HTTP."""

        abstract = True
        host_url = host

        def on_start(self) -> None:
            self.jar: dict[str, str] = {}
            self.address = next(addresses)
            self.adapter = FromAddress(self.address)
            self.client.mount("http://", self.adapter)

        def call(
            self, method: str, path: str, kind: str | None, data: Any = None, **kw: Any
        ) -> Any:
            headers = kw.pop("headers", {})
            if self.jar:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
            if method == "POST":
                headers.setdefault("Origin", host)
                headers.setdefault("Referer", host + path)
            name = kw.pop("name", path)
            started = time.perf_counter()
            response = self.client.request(
                method, path, data=data, headers=headers, allow_redirects=False, name=name, **kw
            )
            elapsed = (time.perf_counter() - started) * 1000
            self.client.cookies.clear()
            for raw in response.raw.headers.getlist("Set-Cookie") if response.raw else []:
                cookie, _, rest = raw.partition("=")
                value = rest.split(";", 1)[0]
                if value in ("", '""') or "max-age=0" in raw.lower():
                    self.jar.pop(cookie, None)
                else:
                    self.jar[cookie] = value
            if kind is not None:
                if response.status_code >= 400 or response.status_code == 0:
                    cause = type(response.error).__name__ if response.error else ""
                    RECORD.error(f"{method} {name}: {response.status_code} {cause}".rstrip())
                else:
                    RECORD.add(kind, elapsed, name)
            return response

        def csrf(self) -> str:
            name = next((n for n in self.jar if n.endswith("csrftoken")), None)
            return self.jar[name] if name else ""

        def sign_in(self, username: str) -> None:
            self.call("GET", "/accounts/login/", None)
            response = self.call(
                "POST",
                "/accounts/login/",
                None,
                {"login": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf()},
            )
            location = response.headers.get("Location", "")
            if "/2fa/" in location:
                path = urlsplit(location).path
                self.call("GET", path, None)
                response = self.call(
                    "POST",
                    path,
                    None,
                    {"code": _totp(username), "csrfmiddlewaretoken": self.csrf()},
                )
            if response.status_code != 302 or "/accounts/" in response.headers.get("Location", ""):
                RECORD.error(f"sign-in {username}: {response.status_code}")
                raise RuntimeError(f"sign-in of {username} failed")

    class Clerk(Browser):
        weight = 1
        wait_time = between(2, 8)

        def on_start(self) -> None:
            super().on_start()
            with POOL_LOCK:
                self.me = CLERK_POOL.pop()
            assert FLOOR is not None
            self.office = self.me["office"]
            self.sign_in(self.me["username"])
            self.call("GET", "/counters/live/", READ, name="live panel")
            self.streaming = True
            import gevent

            self.stream = gevent.spawn(self._stream)

        def on_stop(self) -> None:
            self.streaming = False
            self.stream.kill(block=False)

        def _stream(self) -> None:
            """The browser's EventSource: open, read until the server ends it, reopen."""
            import requests

            session = requests.Session()
            session.mount("http://", FromAddress(self.address))
            last = ""
            while self.streaming:
                headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())}
                if last:
                    headers["Last-Event-ID"] = last
                try:
                    with session.get(
                        host + "/counters/live/stream/",
                        headers=headers,
                        stream=True,
                        timeout=(5, 60),
                    ) as response:
                        if response.status_code != 200:
                            RECORD.error(f"stream: {response.status_code}")
                            time.sleep(5)
                            continue
                        for line in response.iter_lines():
                            if line.startswith(b"id: "):
                                last = line[4:].decode()
                            if not self.streaming:
                                return
                except requests.RequestException as error:
                    if self.streaming:
                        RECORD.error(f"stream: {type(error).__name__}")
                        time.sleep(1)
                time.sleep(1.0)  # retry: 1000

        def resident(self) -> str:
            assert FLOOR is not None
            return random.choice(FLOOR.residents[self.office])

        @task(10)
        def search(self) -> None:
            kana = random.choice(COMMON_KANA)
            self.call(
                "POST",
                "/residents/",
                READ,
                {"kana": kana, "csrfmiddlewaretoken": self.csrf()},
                name="search",
            )

        @task(10)
        def open_resident(self) -> None:
            self.call("GET", f"/residents/{self.resident()}/", READ, name="resident page")

        @task(2)
        def uncollected(self) -> None:
            self.call("GET", "/applications/uncollected/", READ, name="uncollected")

        @task(1)
        def procedure(self) -> None:
            resident = self.resident()
            form = f"/applications/new/{resident}/reissue/"
            self.call("GET", form, READ, name="procedure form")
            response = self.call(
                "POST",
                form,
                None,
                {
                    "reissue_reason": "lost",
                    "lost_at_home": "on",
                    "applicant_type": "holder",
                    "documents": ["passport"],
                    "with_certificates": "on",
                    "csrfmiddlewaretoken": self.csrf(),
                },
                name="procedure submit",
            )
            location = response.headers.get("Location", "")
            if response.status_code != 302 or "/applications/" not in location:
                # Someone else's open procedure for the same resident is a fair refusal (200
                # with the form's error); anything else is an error.
                if response.status_code != 200:
                    RECORD.error(f"procedure submit: {response.status_code}")
                return
            RECORD.add(WRITE, response.elapsed.total_seconds() * 1000, "procedure submit")
            application = urlsplit(location).path
            confirm = self.call(
                "GET", application + "pay/?method=cash", READ, name="pay confirmation"
            )
            found = re.search(r'name="submission" value="([0-9a-f-]{36})"', confirm.text)
            if not found:
                RECORD.error("pay confirmation: no submission key")
                return
            paid = self.call(
                "POST",
                application + "pay/",
                None,
                {
                    "method": "cash",
                    "submission": found.group(1),
                    "csrfmiddlewaretoken": self.csrf(),
                },
                name="pay",
            )
            if paid.status_code != 302:
                RECORD.error(f"pay: {paid.status_code}")
            else:
                RECORD.add(WRITE, paid.elapsed.total_seconds() * 1000, "pay")

    class Agent(Browser):
        """A counter's reader agent: signed card reads (reader_agent's own signing code)."""

        weight = 1
        wait_time = between(20, 40)

        def on_start(self) -> None:
            super().on_start()
            import importlib.util

            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            spec = importlib.util.spec_from_file_location(
                "agent_httpsig", ROOT / "reader_agent/madoguchi_agent/httpsig.py"
            )
            assert spec is not None
            assert spec.loader is not None
            self.httpsig = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(self.httpsig)
            with POOL_LOCK:
                self.me = AGENT_POOL.pop()
            self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(self.me["key"]))

        @task
        def read(self) -> None:
            import json

            assert FLOOR is not None
            serial = random.choice(FLOOR.serials[self.me["office"]])
            payload = {
                "read_id": str(uuid.uuid4()),
                "kind": "card",
                "read_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "reader_name": "Virtual PCD 00 00",
                "agent_version": "0.1.0",
                "auth_certificate": {
                    "serial": serial,
                    "not_before": "2024-05-15T00:00:00Z",
                    "not_after": "2034-10-10T14:59:59Z",
                    "issuer": "CN=FICTIONAL JPKI CA",
                },
                "pin_tries": {"auth": 3, "signing": 5, "text": 3, "resident": 3},
                "pin_blocked": {"auth": False, "signing": False, "text": False, "resident": False},
                "text": None,
            }
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            headers = dict(
                self.httpsig.sign_request(
                    method="POST", path="/api/v1/reads", body=body, private_key=self.key
                )
            )
            headers["Content-Type"] = "application/json"
            response = self.call(
                "POST", "/api/v1/reads", None, body, headers=headers, name="agent read"
            )
            if response.status_code >= 300:
                RECORD.error(f"agent read: {response.status_code} {response.text[:120]}")
            else:
                RECORD.add(WRITE, response.elapsed.total_seconds() * 1000, "agent read")

    class Supervisor(Browser):
        weight = 1
        fixed_count = 1
        wait_time = between(5, 10)

        def on_start(self) -> None:
            super().on_start()
            assert FLOOR is not None
            self.sign_in(FLOOR.supervisor)

        @task
        def what_waits(self) -> None:
            self.call("GET", "/reports/", READ, name="supervisor home")

        @task
        def a_report(self) -> None:
            # The reports a supervisor opens during the day (the wave and the activity read the
            # nightly summaries; the stock and the money are live).
            report = random.choice(("activity", "stock", "money", "wave", "security"))
            self.call("GET", f"/reports/{report}/", READ, name="report")

        @task
        def batches(self) -> None:
            self.call("GET", "/notices/", READ, name="notice batches")

        @task
        def close(self) -> None:
            self.call("GET", "/fees/close/", READ, name="daily close")

    class Baseline(Browser):
        weight = 1
        wait_time = between(2, 8)

        @task
        def healthz(self) -> None:
            self.call("GET", "/healthz", BASELINE, name="/healthz")

    return [Clerk, Agent, Supervisor, Baseline]


AGENT_POOL: list[dict[str, str]] = []


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def play(args: argparse.Namespace, floor: Floor) -> int:
    import gevent
    from locust.env import Environment

    global FLOOR
    FLOOR = floor
    CLERK_POOL[:] = list(floor.clerks[: args.clerks])
    AGENT_POOL[:] = list(floor.clerks[: args.clerks])
    host = f"http://127.0.0.1:{args.port}"
    clerk, agent, supervisor, baseline = _users(host)
    for user_class in (clerk, agent, supervisor, baseline):
        user_class.host = host
    # Exact counts: N clerks, N agents, 1 supervisor, N baseline users.
    clerk.fixed_count = args.clerks
    agent.fixed_count = args.clerks
    baseline.fixed_count = args.clerks
    env = Environment(user_classes=[clerk, agent, supervisor, baseline], host=host)
    runner = env.create_local_runner()
    total = 3 * args.clerks + 1
    started = time.monotonic()
    runner.start(total, spawn_rate=args.spawn_rate)
    # The figures count from the end of the spawn (sign-ins are not the floor's work).
    gevent.sleep(total / args.spawn_rate + 5)
    with RECORD.lock:
        RECORD.times.clear()
        RECORD.by_name.clear()
        errors_during_spawn = list(RECORD.errors)
        RECORD.errors.clear()
    load_before = os.getloadavg()[0]
    gevent.sleep(args.duration)
    load_after = os.getloadavg()[0]
    with RECORD.lock:
        RECORD.open = False
    runner.quit()
    elapsed = time.monotonic() - started
    reads = RECORD.times[READ]
    writes = RECORD.times[WRITE]
    base = RECORD.times[BASELINE]
    errors = errors_during_spawn + RECORD.errors
    reads_p95, writes_p95, base_p95 = (percentile(v, 0.95) for v in (reads, writes, base))
    print(
        f"data: {args.database}; users: {args.clerks} clerks (each with its live stream open), "
        f"{args.clerks} agents, 1 supervisor, {args.clerks} baseline; spawn {args.spawn_rate}/s; "
        f"measured {args.duration} s after the spawn ({elapsed:.0f} s in all); "
        f"server: {args.workers} gthread workers x {args.threads} threads, pool {args.pool}; "
        f"load average {load_before:.1f} → {load_after:.1f}"
    )
    print(
        f"reads n={len(reads)} p50={percentile(reads, 0.5):.1f} p95={reads_p95:.1f} "
        f"max={max(reads, default=0):.1f} ms; writes n={len(writes)} "
        f"p50={percentile(writes, 0.5):.1f} p95={writes_p95:.1f} max={max(writes, default=0):.1f} "
        f"ms; baseline n={len(base)} p50={percentile(base, 0.5):.1f} p95={base_p95:.1f} ms"
    )
    for name, values in sorted(RECORD.by_name.items()):
        print(
            f"  {name}: n={len(values)} p50={percentile(values, 0.5):.1f} "
            f"p95={percentile(values, 0.95):.1f} max={max(values):.1f} ms"
        )
    for what in sorted(set(errors))[:15]:
        print(f"  error x{errors.count(what)}: {what}")
    print(
        f"clerks={args.clerks} reads_p95_ms={reads_p95:.1f} writes_p95_ms={writes_p95:.1f} "
        f"baseline_p95_ms={base_p95:.1f} read_ratio={reads_p95 / base_p95:.2f} "
        f"write_ratio={writes_p95 / base_p95:.2f} errors={len(errors)}",
        flush=True,
    )
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="mg_load")
    parser.add_argument("--build", type=int, metavar="CARDS", help="make the data set first")
    parser.add_argument("--clerks", type=int, default=50)
    parser.add_argument("--duration", type=int, default=180, help="seconds measured")
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=128, help="threads per process")
    parser.add_argument("--pool", type=int, default=12, help="database pool per process")
    args = parser.parse_args()
    if args.build:
        build(args.database, args.build)
        return 0
    if not _exists(args.database):
        print(f"{args.database} does not exist: building it with 100000 cards first", flush=True)
        build(args.database, 100_000)
    floor = prepare(args.database, args.clerks)
    from django.db import connections

    connections.close_all()
    url, _ = _urls(args.database)
    process, logs = start_server(args, url)
    try:
        return play(args, floor)
    finally:
        stop_server(process)
        print(f"serve-prod stopped (logs in {logs})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
