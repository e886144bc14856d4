"""Make the deployment's secrets as files, once: `python3 deploy/make_secrets.py deploy/secrets`.

Standard library only (runs before anything is installed). A file that exists is kept, so a
re-run never replaces a key the data is encrypted with. Files are readable by their owner only.

- secret_key: Django's SECRET_KEY (sessions, CSRF).
- my_number_keys, my_number_active_key_id: the My Number encryption key ring (R-MYN-2),
  `k1:<base64 of 32 bytes>`; key rotation adds a key (README "Key rotation").
- my_number_index_key: the blind index's HMAC key. It is never rotated without re-indexing.
- db_owner_password, app_db_password: PostgreSQL's owner (migrations) and the application's
  role `madoguchi_app` (manage.py db_roles).
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    values = {
        "secret_key": lambda: secrets.token_urlsafe(50),
        "my_number_keys": lambda: f"k1:{_key()}",
        "my_number_active_key_id": lambda: "k1",
        "my_number_index_key": _key,
        "db_owner_password": lambda: secrets.token_urlsafe(24),
        "app_db_password": lambda: secrets.token_urlsafe(24),
    }
    for name, make in values.items():
        path = directory / name
        if path.exists():
            print(f"{path}: kept")
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(make() + "\n")
        print(f"{path}: made")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/secrets"))
