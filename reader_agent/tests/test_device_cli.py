"""Device key, enrollment and the command line."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from agent_helpers import FakeServer

from madoguchi_agent import cli
from madoguchi_agent.device import (
    ENV_HOME,
    AgentConfig,
    enroll,
    fingerprint,
    load_key,
    load_or_create_key,
    normalize_server_url,
    resolve_config_dir,
)
from madoguchi_agent.errors import NotEnrolled, ServerUnavailable
from madoguchi_agent.httpsig import public_key_raw


def test_config_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_HOME, raising=False)
    assert resolve_config_dir(None) == Path.home() / ".config" / "madoguchi-agent"
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "env"))
    assert resolve_config_dir(None) == tmp_path / "env"
    assert resolve_config_dir(tmp_path / "flag") == tmp_path / "flag"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_key_file_mode_0600_and_reused(config_dir: Path) -> None:
    key, created = load_or_create_key(config_dir)
    assert created
    path = config_dir / "device_key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again, created2 = load_or_create_key(config_dir)
    assert not created2
    assert public_key_raw(again) == public_key_raw(key)
    replaced, created3 = load_or_create_key(config_dir, replace=True)
    assert created3
    assert public_key_raw(replaced) != public_key_raw(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_load_key_missing(config_dir: Path) -> None:
    with pytest.raises(NotEnrolled):
        load_key(config_dir)


@pytest.mark.parametrize("url", ["ftp://x", "madoguchi.local", "https://x/?a=1", ""])
def test_bad_server_urls(url: str) -> None:
    with pytest.raises(ValueError, match="server URL"):
        normalize_server_url(url)


def test_server_url_normalized() -> None:
    assert normalize_server_url("https://m.city.local/app/ ") == "https://m.city.local/app"


def test_enroll_posts_public_key(config_dir: Path, fake_server: FakeServer) -> None:
    result = enroll(server=fake_server.url + "/", name="窓口3番", config_dir=config_dir)
    assert result.key_created
    assert result.status_code == 201
    sent = fake_server.pending[result.fingerprint]
    raw = base64.b64decode(sent["public_key"])
    assert len(raw) == 32
    assert sent == {
        "name": "窓口3番",
        "public_key": sent["public_key"],
        "fingerprint": fingerprint(raw),
    }
    assert public_key_raw(load_key(config_dir)) == raw
    cfg = AgentConfig.load(config_dir)
    assert (cfg.server, cfg.device_name) == (fake_server.url, "窓口3番")
    # Enrolling again keeps the key (idempotent).
    assert enroll(server=fake_server.url, name="窓口3番", config_dir=config_dir).fingerprint == (
        result.fingerprint
    )


def test_enroll_server_down_saves_no_server(config_dir: Path, fake_server: FakeServer) -> None:
    fake_server.stop()
    with pytest.raises(ServerUnavailable):
        enroll(server=fake_server.url, name="x", config_dir=config_dir)
    assert AgentConfig.load(config_dir).server is None


def test_cli_enroll_status(
    config_dir: Path, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli.main(
        ["enroll", "--server", fake_server.url, "--name", "窓口1", "--config-dir", str(config_dir)]
    )
    out = capsys.readouterr().out
    assert rc == 0
    fp = fingerprint(public_key_raw(load_key(config_dir)))
    assert fp in out
    rc = cli.main(["status", "--config-dir", str(config_dir)])
    out = capsys.readouterr().out
    assert rc == 0
    assert fp in out
    assert fake_server.url in out
    assert "0 reads, 0 heartbeats" in out


def test_cli_run_not_enrolled(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--config-dir", str(config_dir)]) == cli.EXIT_NOT_ENROLLED
    assert "enroll" in capsys.readouterr().err


def test_cli_simulate_rejects_invalid_my_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["simulate", "--my-number", "123456789011"]) == cli.EXIT_ERROR
    assert "check digit" in capsys.readouterr().err


def test_cli_config_dir_from_env(
    monkeypatch: pytest.MonkeyPatch, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_HOME, str(config_dir))
    cli.main(["status"])
    assert str(config_dir) in capsys.readouterr().out


def test_status_reports_pcscd_down(config_dir: Path) -> None:
    """pcscd unreachable -> a clear message, exit 0 (status is informational).

    PCSCLITE_CSOCK_NAME points pcsc-lite at a socket that does not exist: pcscd "down" without
    stopping the real one. Runs in a subprocess so this process's PC/SC library is untouched.
    """
    env = {
        **os.environ,
        "PCSCLITE_CSOCK_NAME": str(config_dir / "no-such-socket"),
        ENV_HOME: str(config_dir),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "madoguchi_agent.cli", "status"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pcscd" in proc.stdout or "Smart Card" in proc.stdout


def test_console_script_declared() -> None:
    import tomllib

    data = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["madoguchi-agent"] == "madoguchi_agent.cli:main"
    deps = sorted(d.split(">")[0].split("=")[0] for d in data["project"]["dependencies"])
    assert deps == ["cryptography", "httpx", "pyscard"]
    assert json.dumps(data["project"]["name"]) == '"madoguchi-reader-agent"'
