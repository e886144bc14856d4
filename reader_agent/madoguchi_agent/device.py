"""The counter PC's identity: an Ed25519 device key, its fingerprint, and enrollment.

The private key never leaves the config directory (mode 0600). The server only ever learns the
public key; an administrator approves the pending device after comparing fingerprints.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from .errors import NotEnrolled, ServerRejected, ServerUnavailable
from .httpsig import fingerprint, public_key_raw
from .signing import RequestSigner

__all__ = [
    "ENV_HOME",
    "AgentConfig",
    "EnrollResult",
    "enroll",
    "fingerprint",
    "load_key",
    "load_or_create_key",
    "resolve_config_dir",
]

ENV_HOME = "MADOGUCHI_AGENT_HOME"
KEY_FILE = "device_key.pem"
CONFIG_FILE = "config.json"
ENROLL_PATH = "/api/v1/devices/enroll"


def resolve_config_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--config-dir`, else $MADOGUCHI_AGENT_HOME, else ~/.config/madoguchi-agent."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "madoguchi-agent"


def _ensure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if sys.platform != "win32":
        # The key and the outbox live here: other local users must not read them.
        path.chmod(0o700)


def normalize_server_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"server URL must be http(s)://host[:port][/prefix], got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError("server URL must not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


@dataclass
class AgentConfig:
    server: str | None = None
    device_name: str | None = None
    ca_bundle: str | None = None  # the city's own CA for the server's TLS certificate

    @classmethod
    def load(cls, config_dir: Path) -> AgentConfig:
        path = config_dir / CONFIG_FILE
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: raw.get(k) for k in ("server", "device_name", "ca_bundle")})

    def save(self, config_dir: Path) -> None:
        _ensure_dir(config_dir)
        path = config_dir / CONFIG_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)


def load_key(config_dir: Path) -> Ed25519PrivateKey:
    path = config_dir / KEY_FILE
    if not path.exists():
        raise NotEnrolled(f"no device key at {path}")
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise NotEnrolled(f"{path} is not an Ed25519 key")
    return key


def load_or_create_key(
    config_dir: Path, *, replace: bool = False
) -> tuple[Ed25519PrivateKey, bool]:
    """Return (key, created). An existing key is kept unless `replace`, so re-running enroll
    is idempotent and does not silently orphan an approved device."""
    path = config_dir / KEY_FILE
    if path.exists() and not replace:
        return load_key(config_dir), False
    _ensure_dir(config_dir)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = path.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    # Created with 0600 from the start: no window in which the key is world-readable.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return key, True


@dataclass(frozen=True)
class EnrollResult:
    fingerprint: str
    key_created: bool
    status_code: int
    server_message: str


def enroll(
    *,
    server: str,
    name: str,
    config_dir: Path,
    http: httpx.Client | None = None,
    new_key: bool = False,
    ca_bundle: str | None = None,
) -> EnrollResult:
    """Create (or reuse) the device key and register it with the server as a pending device.

    The server does not trust this request (anyone can enroll); trust comes from an
    administrator approving the fingerprint. The request is still signed with the new key, as
    proof of possession the server may check.
    """
    server = normalize_server_url(server)
    if not name.strip():
        raise ValueError("device name must not be empty")
    key, created = load_or_create_key(config_dir, replace=new_key)
    raw = public_key_raw(key)
    fp = fingerprint(raw)
    body = json.dumps(
        {"name": name, "public_key": base64.b64encode(raw).decode("ascii"), "fingerprint": fp},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    path = urlsplit(server).path + ENROLL_PATH
    headers = {"Content-Type": "application/json", **RequestSigner(key).headers("POST", path, body)}
    config = AgentConfig.load(config_dir)
    config.server, config.device_name = server, name
    if ca_bundle is not None:
        config.ca_bundle = ca_bundle
    own_client = http is None
    client = http or httpx.Client(timeout=10.0, verify=config.ca_bundle or True)
    try:
        resp = client.post(server + ENROLL_PATH, content=body, headers=headers)
    except httpx.TransportError as exc:
        raise ServerUnavailable(f"enroll: {type(exc).__name__}") from None
    finally:
        if own_client:
            client.close()
    if resp.status_code >= 500:
        raise ServerUnavailable(f"enroll: HTTP {resp.status_code}")
    if resp.status_code not in (200, 201, 202, 409):
        raise ServerRejected(f"enroll: HTTP {resp.status_code}", resp.status_code)
    # Saved only once the server has heard of us, so `run` never pushes to a server that
    # does not know the key.
    config.save(config_dir)
    return EnrollResult(
        fingerprint=fp,
        key_created=created,
        status_code=resp.status_code,
        server_message=resp.text[:200],
    )
