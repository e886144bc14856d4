"""Processes of the card-read chain, for tests/agent and bench/reads.py.

The chain is the real one: the reader agent's own CLI (`reader_agent/.venv/bin/madoguchi-agent`)
for `enroll`, `run` and `simulate`; pcscd with vsmartcard-vpcd between the simulated card and
the agent; the Django server; a Chromium page. Nothing here imports the agent: it runs in its
own venv (pyscard needs libpcsclite), exactly as on a counter PC.

`simulate` takes `i` (insert) and `r` (remove) on its console only when stdin is a terminal,
so the simulator gets a pseudo-terminal as stdin and answers each command with `inserted=...`.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.services import tcp_open

REPO = Path(__file__).resolve().parents[2]
AGENT_VENV = REPO / "reader_agent" / ".venv"
AGENT_BIN = AGENT_VENV / "bin" / "madoguchi-agent"
AGENT_PYTHON = AGENT_VENV / "bin" / "python"
# Port 35964 is vpcd's second reader, "Virtual PCD 00 01": the agent package's own tests use
# the first one, so both suites can run at the same time on one machine.
VPCD_PORT = int(os.environ.get("MADOGUCHI_E2E_VPCD_PORT", "35964"))
VPCD_FIRST_PORT = 35963
# How long a removed card stays out before anything else happens (Simulator.remove).
OUT_OF_READER_SECONDS = 1.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def vpcd_reader_name(port: int = VPCD_PORT) -> str:
    """vpcd names its readers by port: 35963 → "Virtual PCD 00 00", 35964 → "… 00 01"."""
    return f"Virtual PCD 00 {port - VPCD_FIRST_PORT:02d}"


def pcscd_with_vpcd(port: int = VPCD_PORT) -> bool:
    """pcscd is up with vsmartcard-vpcd loaded: vpcd listens for cards on its TCP port."""
    return tcp_open("127.0.0.1", port)


def agent_installed() -> bool:
    """The agent's venv exists and has pyscard (built against libpcsclite)."""
    if not AGENT_BIN.exists() or not AGENT_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(AGENT_PYTHON), "-c", "import smartcard.scard, madoguchi_agent.cli"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def _agent_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MADOGUCHI_AGENT_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    # The agent is its own program: none of the server's settings leak into it.
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONPATH"):
        env.pop(name, None)
    return env


def agent_enroll(*, server: str, name: str, home: Path) -> str:
    """`madoguchi-agent enroll`; returns the fingerprint it printed."""
    proc = subprocess.run(
        [str(AGENT_BIN), "enroll", "--server", server, "--name", name, "--config-dir", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_agent_env(home),
        check=False,
    )
    match = re.search(r"fingerprint: (SHA256:\S+)", proc.stdout)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"enroll failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return match.group(1)


@dataclass
class AgentRun:
    """`madoguchi-agent run` in the background; its output goes to a log file."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        _stop(self.process)


def agent_run(*, home: Path, reader: str, heartbeat: float = 5.0) -> AgentRun:
    log = home.parent / f"{home.name}-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(AGENT_BIN),
                "run",
                "--config-dir",
                str(home),
                "--reader",
                reader,
                "--heartbeat",
                str(heartbeat),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_agent_env(home),
            start_new_session=True,
        )
    return AgentRun(process=process, log=log)


class Simulator:
    """`madoguchi-agent simulate` with a pseudo-terminal for its `i`/`r`/`q` console."""

    def __init__(self, *, home: Path, port: int = VPCD_PORT, **card: str) -> None:
        args = [str(AGENT_BIN), "simulate", "--port", str(port), "--removed"]
        for option, value in card.items():
            args += [f"--{option.replace('_', '-')}", value]
        self._master, slave = pty.openpty()
        self.process = subprocess.Popen(
            args,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_agent_env(home),
            start_new_session=True,
        )
        os.close(slave)
        assert self.process.stdout is not None
        self._out = self.process.stdout
        self._buffer = b""
        self.banner = self._expect(rb"persona=[^\n]*inserted=False", timeout=60)

    def _expect(self, pattern: bytes, *, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self._buffer)
            if match is not None:
                self._buffer = self._buffer[match.end() :]
                return match.group(0).decode()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                raise RuntimeError(f"simulator: no {pattern!r} (exit {self.process.poll()})")
            ready, _, _ = select.select([self._out], [], [], remaining)
            if ready:
                chunk = os.read(self._out.fileno(), 4096)
                if not chunk:
                    continue
                self._buffer += chunk

    def _command(self, letter: str, expect: bytes) -> float:
        """Send a console command; the wall-clock time it was sent (the insertion instant)."""
        sent = time.time()
        os.write(self._master, letter.encode() + b"\n")
        self._expect(expect, timeout=10)
        return sent

    def insert(self) -> float:
        return self._command("i", rb"inserted=True")

    def remove(self) -> float:
        """Take the card out, and keep it out until pcscd has seen the reader empty.

        vpcd finds a closed connection only at its next presence poll (about every 0.44 s);
        a card put in before that poll is taken by vpcd for the same card, pcscd reports no
        change and the agent reads nothing (measured: 6 swaps missed in 12 with no pause,
        none with 0.5 s). A person swapping cards takes longer than that; a test does not.
        """
        sent = self._command("r", rb"inserted=False")
        time.sleep(OUT_OF_READER_SECONDS)
        return sent

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._master, b"q\n")
        _stop(self.process, grace=5)
        with contextlib.suppress(OSError):
            os.close(self._master)


def _stop(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def running(*things: AgentRun | Simulator) -> Iterator[None]:
    """Stop the agents and simulators however the block ends; a failure inside the block
    carries the agents' logs, so a red run on CI shows what the agent saw."""
    try:
        yield
    except BaseException as exc:
        for thing in things:
            if isinstance(thing, AgentRun):
                exc.add_note(f"--- agent output (last 4000 characters):\n{thing.output()[-4000:]}")
        raise
    finally:
        for thing in things:
            thing.stop()
