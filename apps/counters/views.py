"""The clerk's live counter page and its event stream; the administrators' fleet page."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Counter
from apps.accounts.policy import StaffRequest, admin_required, resident_staff_required
from apps.core.http import client_ip
from apps.counters import streams
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


def _release_connection() -> None:
    """Give this thread's database connection back before a wait (to the pool, when there is
    one). Not inside a transaction: a test's, or ATOMIC_REQUESTS."""
    if not connection.in_atomic_block:
        connection.close()


def _events(request: StaffRequest, counter: Counter, after: int) -> Iterator[bytes]:
    """The stream's events. It waits on the process's listener (apps.counters.streams), and
    gives its database connection back (to the pool) before every wait: an open panel holds a
    server thread, never a database connection, so 200 open panels fit in a small pool."""
    try:
        subscription = streams.hub().subscribe(counter_channel(counter.pk))
    except streams.StreamUnavailable:
        yield b"retry: 5000\n\n"  # the browser comes back in 5 s
        return
    try:
        yield b"retry: 1000\n\n"
        deadline = time.monotonic() + settings.COUNTER_STREAM_SECONDS
        last = after
        look = True  # a new stream looks at once: a read may have come before it listened
        while True:
            if look:
                subscription.clear()
                # Only the newest read matters: the panel shows one resident at a time.
                read = latest_read_after(counter=counter, after=last)
                if read is not None:
                    last = read.pk
                    if shown_on_panel(
                        read_at=read.read_at,
                        received_at=read.received_at,
                        max_age_seconds=settings.COUNTER_PANEL_MAX_READ_AGE,
                    ):
                        event = _read_event(request, read)
                    else:
                        event = _sse(event_id=read.pk)  # moves the resume point, shows nothing
                    _release_connection()
                    yield event
                else:
                    _release_connection()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            look = subscription.wait(min(remaining, KEEPALIVE_SECONDS))
            if not look:
                yield b": keepalive\n\n"
    finally:
        subscription.close()


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
