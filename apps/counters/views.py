"""The clerk's live counter page and its event stream; the administrators' fleet page."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from psycopg import sql

from apps.accounts.models import Counter
from apps.accounts.policy import StaffRequest, admin_required, resident_staff_required
from apps.core.http import client_ip
from apps.counters.forms import ApproveForm
from apps.counters.models import CardRead
from apps.counters.rules import shown_on_panel
from apps.counters.selectors import (
    counter_devices,
    device_get,
    devices_for,
    heartbeat_stale_before,
    latest_read_after,
    live_counter,
    panel_read,
)
from apps.counters.services import (
    card_read_log_shown,
    counter_channel,
    device_approve,
    device_revoke,
)

# Between events the stream sends a comment this often: proxies keep the connection open, and
# a closed browser tab is noticed (the write fails) within this many seconds.
KEEPALIVE_SECONDS = 5.0


# --- the clerk's live panel ---------------------------------------------------------------------


@require_GET
@resident_staff_required
def live(request: StaffRequest) -> HttpResponse:
    """The counter screen: the live panel, and the state of this counter's reader devices."""
    counter = live_counter(request.user)
    devices = list(counter_devices(counter)) if counter is not None else []
    return render(
        request,
        "counters/live.html",
        {
            "counter": counter,
            "devices": devices,
            "stale_before": heartbeat_stale_before(timezone.now()),
        },
    )


class _Listener:
    """A connection of its own that LISTENs on one counter's channel.

    Not Django's connection: the stream also queries through the ORM, and a notification that
    arrived during such a query must wait in this connection's queue rather than be missed.
    """

    def __init__(self, channel: str) -> None:
        params = connection.get_connection_params()
        self.conn = psycopg.connect(**params, autocommit=True)
        self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

    def wait(self, timeout: float) -> bool:
        """True as soon as a notification arrives, False after `timeout` seconds without."""
        return any(True for _ in self.conn.notifies(timeout=timeout, stop_after=1))

    def close(self) -> None:
        self.conn.close()


def _sse(*, event_id: int, event: str | None = None, html: str = "") -> bytes:
    lines = [f"id: {event_id}"]
    if event:
        lines.append(f"event: {event}")
        # One data: line per line of HTML; the browser joins them with newlines again.
        lines.extend(f"data: {line}" for line in (html.splitlines() or [""]))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def _read_event(request: StaffRequest, read: CardRead) -> bytes:
    shown = panel_read(user=request.user, read=read)
    card_read_log_shown(
        acting_user=request.user, read=read, resident=shown.resident, ip_address=client_ip(request)
    )
    html = render_to_string("counters/_read.html", {"shown": shown}, request=request)
    return _sse(event_id=read.pk, event="read", html=html)


def _events(request: StaffRequest, counter: Counter, after: int) -> Iterator[bytes]:
    listener = _Listener(counter_channel(counter.pk))
    try:
        yield b"retry: 1000\n\n"
        deadline = time.monotonic() + settings.COUNTER_STREAM_SECONDS
        last = after
        while True:
            # Only the newest read matters: the panel shows one resident at a time.
            read = latest_read_after(counter=counter, after=last)
            if read is not None:
                last = read.pk
                if shown_on_panel(
                    read_at=read.read_at,
                    received_at=read.received_at,
                    max_age_seconds=settings.COUNTER_PANEL_MAX_READ_AGE,
                ):
                    yield _read_event(request, read)
                else:
                    yield _sse(event_id=read.pk)  # moves the resume point past it, shows nothing
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if not listener.wait(min(remaining, KEEPALIVE_SECONDS)):
                yield b": keepalive\n\n"
    finally:
        listener.close()


def _resume_after(request: HttpRequest) -> int:
    """Where the stream resumes: the browser's Last-Event-ID on a reconnect, else `after`."""
    best = 0
    for raw in (request.GET.get("after", ""), request.headers.get("Last-Event-ID", "")):
        if raw.isdigit() and len(raw) < 19:
            best = max(best, int(raw))
    return best


@require_GET
@resident_staff_required
def live_stream(request: StaffRequest) -> StreamingHttpResponse:
    """Server-sent events for the clerk's own counter (User.counter): one `read` event per read
    shown, each with the panel's HTML. Ends after COUNTER_STREAM_SECONDS; the browser then
    reconnects and resumes after the last event id.
    """
    counter = live_counter(request.user)
    if counter is None:
        raise Http404
    response = StreamingHttpResponse(
        _events(request, counter, _resume_after(request)), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


# --- the administrators' fleet page -------------------------------------------------------------


@require_GET
@admin_required
def devices(request: StaffRequest) -> HttpResponse:
    fleet = list(devices_for(request.user).order_by("state", "counter__office__code", "name"))
    return render(
        request,
        "counters/devices.html",
        {
            "devices": fleet,
            "approve_form": ApproveForm(),
            "stale_before": heartbeat_stale_before(timezone.now()),
        },
    )


@require_POST
@admin_required
def device_approve_view(request: StaffRequest, device_id: uuid.UUID) -> HttpResponse:
    device = device_get(user=request.user, device_id=device_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "承認する窓口を選んでください。")
        return redirect("counters:devices")
    try:
        device_approve(
            acting_user=request.user, device=device, counter=form.cleaned_data["counter"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{device.name} を承認しました。")
    return redirect("counters:devices")


@require_POST
@admin_required
def device_revoke_view(request: StaffRequest, device_id: uuid.UUID) -> HttpResponse:
    device = device_get(user=request.user, device_id=device_id)
    try:
        device_revoke(acting_user=request.user, device=device)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{device.name} を失効させました。この鍵からの送信は受け付けません。"
        )
    return redirect("counters:devices")
