"""Local development keys, made once per checkout for `make run` and the tests.

Production never reaches this module: settings refuse to start without real keys there.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


def load_or_create(path: Path) -> dict[str, str]:
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "MY_NUMBER_KEYS": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "MY_NUMBER_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    # Write through a private file so a half-written key file never exists.
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    tmp.replace(path)
    return data
