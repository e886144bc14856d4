"""R-MYN-2 / R-PIN-3: nothing sensitive reaches a log line or an error report."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from apps.accounts.models import User
from apps.core.logging import PersonalDataReporterFilter, ScrubMyNumberFilter, scrub

_SECRET = "".join(["1234", "5678", "9018"])


def test_scrub_removes_twelve_digit_numbers_in_any_spacing() -> None:
    for text in ("123456789018", "1234 5678 9018", "1234-5678-9018"):
        assert scrub(f"looked up {text} ok") == "looked up [REDACTED] ok"
    assert scrub("receipt 2026-000123") == "receipt 2026-000123"


def test_log_filter_rewrites_the_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("madoguchi.test")
    logger.addFilter(ScrubMyNumberFilter())
    try:
        with caplog.at_level(logging.INFO, logger="madoguchi.test"):
            logger.info("search for %s", "123456789018")
    finally:
        logger.filters.clear()
    assert "123456789018" not in caplog.text
    assert "[REDACTED]" in caplog.text


def test_error_reports_hide_my_number_and_pin_fields() -> None:
    request = RequestFactory().post(
        "/residents/", {"n-my_number": "123456789018", "pin": "1234", "k-kana": "ヤマダ"}
    )
    cleaned = PersonalDataReporterFilter().get_post_parameters(request)
    assert cleaned["n-my_number"] != "123456789018"
    assert cleaned["pin"] != "1234"
    assert cleaned["k-kana"] == "ヤマダ"


@contextmanager
def _formatted_output() -> Iterator[io.StringIO]:
    """What the configured console handler writes, into a buffer."""
    import structlog

    formatter = next(
        handler.formatter
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
    )
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    logging.getLogger().addHandler(handler)
    try:
        yield buffer
    finally:
        logging.getLogger().removeHandler(handler)


def test_structlog_events_are_redacted_in_every_field() -> None:
    """structlog (and django-structlog's request events) go through redact_my_numbers."""
    import structlog

    with _formatted_output() as buffer:
        structlog.get_logger("madoguchi.test").info(
            "looked up", number="123456789018", nested={"terms": ["1234 5678 9018"]}
        )
    err = buffer.getvalue()
    assert "looked up" in err
    assert "123456789018" not in err
    assert "1234 5678 9018" not in err
    assert err.count("[REDACTED]") == 2


def test_every_record_is_scrubbed_where_it_is_made(caplog: pytest.LogCaptureFixture) -> None:
    """Even a handler with no filter of ours (here pytest's own capture) sees no number."""
    with caplog.at_level(logging.INFO, logger="some.library"):
        logging.getLogger("some.library").warning("looked up %s for %s", "1234-5678-9018", "x")
    assert "1234-5678-9018" not in caplog.text
    assert "looked up [REDACTED] for x" in caplog.text


@pytest.mark.django_db
def test_a_request_with_a_number_in_its_url_is_logged_without_it(client: Client) -> None:
    """django-structlog logs each request with its path: a number typed into a URL."""
    with _formatted_output() as buffer:
        client.get("/healthz?q=123456789018")
    text = buffer.getvalue()
    assert "request_finished" in text
    assert "/healthz?q=[REDACTED]" in text
    assert "123456789018" not in text


@pytest.mark.django_db(transaction=True)  # the server is another process
def test_gunicorns_access_log_is_redacted(tmp_path: Path) -> None:
    """gunicorn writes its access log before Django sees the request (it once kept a
    number typed into a URL): config/gunicorn.py scrubs its lines."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    from tests import dbrole

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    access = tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": dbrole.database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": str(access),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        httpx.get(f"http://127.0.0.1:{port}/residents/1234-5678-9018?n=123456789018", timeout=10)
        for _ in range(50):
            if "1234" in access.read_text() or "REDACTED" in access.read_text():
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    log = access.read_text()
    assert "/residents/[REDACTED]?n=[REDACTED]" in log
    assert "123456789018" not in log + output
    assert "1234-5678-9018" not in log + output


@pytest.mark.django_db
def test_an_error_report_from_the_number_search_shows_no_number(
    client_for: Callable[[User | None], Client], clerk_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R-MYN-2: a crash while searching by My Number; the report (what Django mails to the
    admins or shows with DEBUG) hides the POSTed number and the frames' variables."""
    import sys

    from django.test import RequestFactory
    from django.views.debug import ExceptionReporter
    from django.views.decorators.debug import sensitive_variables

    from apps.residents import selectors, views

    def broken(number: str) -> str:
        raise RuntimeError("index unreachable")

    # Deep inside the real selector, so its frame and the view's are in the traceback.
    monkeypatch.setattr(selectors, "my_number_index", sensitive_variables()(broken))
    # The report quotes this test's source too: the number must not be a literal near the call.
    request = RequestFactory().post("/residents/", {"n-my_number": _SECRET, "n-purpose": "tax"})
    request.user = clerk_a
    try:
        views.search(request)  # type: ignore[arg-type]
    except RuntimeError:
        report = ExceptionReporter(request, *sys.exc_info()).get_traceback_html()
    else:
        pytest.fail("the search did not raise")
    assert "index unreachable" in report
    assert _SECRET not in report
