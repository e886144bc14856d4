"""One LISTEN connection per web process for every open live panel.

Each open panel used to hold a PostgreSQL connection of its own for the whole life of its
stream (LISTEN on its counter's channel). Fifty counters meant fifty idle server connections,
and 200 exhausted PostgreSQL's default max_connections (100), shared with the rest of the
system. Here one thread per process holds one connection, LISTENs on each channel some stream
wants (once: a counter's channel stays listened to for the life of the process) and wakes the
streams of a channel when a notification arrives. A stream waits on a `threading.Event`, so
it holds a server thread but no database connection while it waits.

When the connection is lost (PostgreSQL restarted) the hub reconnects, listens again and wakes
every stream: each re-queries, so a read committed while nobody listened is still shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

# How often the hub thread looks for channels to LISTEN on between notifications; a new
# stream waits at most this long (plus one round trip) before it starts.
POLL_SECONDS = 0.2
# How long a new stream waits for its channel to be listened to before it gives up (the
# browser reconnects after its retry interval).
SUBSCRIBE_TIMEOUT_SECONDS = 5.0
RECONNECT_SECONDS = 1.0


class StreamUnavailable(Exception):
    """The hub could not listen on the channel in time (database unreachable)."""


class Subscription:
    def __init__(self, hub: Hub, channel: str) -> None:
        self.hub = hub
        self.channel = channel
        self.event = threading.Event()

    def clear(self) -> None:
        """Call before reading what is new: a notification from then on wakes `wait`."""
        self.event.clear()

    def wait(self, timeout: float) -> bool:
        """True as soon as the channel was notified (since `clear`), False after `timeout`."""
        return self.event.wait(timeout)

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    """The process's listener. `connect` makes its connection (Django's parameters)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = {}
        self._listening: set[str] = set()
        self._listened = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def subscribe(self, channel: str) -> Subscription:
        """A subscription whose channel is being listened to (or StreamUnavailable)."""
        subscription = Subscription(self, channel)
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_SECONDS
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(subscription)
            self._start_locked()
            while channel not in self._listening:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._subscribers[channel].discard(subscription)
                    raise StreamUnavailable(channel)
                self._listened.wait(remaining)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.get(subscription.channel, set()).discard(subscription)

    def open_streams(self) -> int:
        with self._lock:
            return sum(len(subs) for subs in self._subscribers.values())

    def _start_locked(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="live-panel-hub", daemon=True)
            self._thread.start()

    def _wake(self, channels: set[str] | None = None) -> None:
        with self._lock:
            for channel, subscribers in self._subscribers.items():
                if channels is None or channel in channels:
                    for subscription in subscribers:
                        subscription.event.set()

    def stop(self) -> None:
        """End the thread and close its connection (within POLL_SECONDS)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5 * POLL_SECONDS + 1)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                conn = self._connect()
            except psycopg.OperationalError:
                time.sleep(RECONNECT_SECONDS)
                continue
            try:
                with conn:
                    self._serve(conn)
            except psycopg.Error as error:
                logger.warning("live panel listener lost its connection: %s", type(error).__name__)
            with self._lock:
                self._listening.clear()
            # Whatever was committed while nobody listened: every stream looks again.
            self._wake()
            time.sleep(RECONNECT_SECONDS)

    def _serve(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stopping.is_set():
            with self._lock:
                wanted = [c for c, subs in self._subscribers.items() if subs]
                missing = [c for c in wanted if c not in self._listening]
            for channel in missing:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            if missing:
                with self._lock:
                    self._listening.update(missing)
                    self._listened.notify_all()
            notified = {n.channel for n in conn.notifies(timeout=POLL_SECONDS)}
            if notified:
                self._wake(notified)


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """The process's hub, made on first use (after gunicorn's fork, never before)."""
    global _hub
    with _hub_lock:
        if _hub is None:
            from django.db import connection

            def connect() -> psycopg.Connection[Any]:
                return psycopg.connect(**connection.get_connection_params(), autocommit=True)

            _hub = Hub(connect)
        return _hub


def shutdown() -> None:
    """Stop the process's hub, if there is one (tests, before dropping their database)."""
    global _hub
    with _hub_lock:
        current, _hub = _hub, None
    if current is not None:
        current.stop()
