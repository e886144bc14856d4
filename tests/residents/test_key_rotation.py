"""R-MYN-2 key rotation: `manage.py my_number_rotate` re-encrypts every stored My Number
under the new active key, in batches with progress, and an interrupted run (SIGKILL after
its first batch) is finished by the next run: every number still decrypts to itself, none
is left under the old key, and the blind index (its key is not rotated) still finds them."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import override_settings

from apps.accounts.models import Office
from apps.residents.crypto import ciphertext_key_id, decrypt_my_number, my_number_index
from apps.residents.models import Resident
from tests import dbrole
from tests.conftest import valid_my_number

ROOT = Path(settings.BASE_DIR)
NEW_KID = "rot2"
NEW_KEY = base64.b64encode(b"r" * 32).decode()
RESIDENTS = 30
BATCH = 4


def _rotate_env() -> dict[str, str]:
    old_kid = settings.MY_NUMBER_ACTIVE_KEY_ID
    old = base64.b64encode(settings.MY_NUMBER_KEYS[old_kid]).decode()
    return {
        **os.environ,
        "DATABASE_URL": dbrole.database_url(),
        "MY_NUMBER_KEYS": f"{old_kid}:{old},{NEW_KID}:{NEW_KEY}",
        "MY_NUMBER_ACTIVE_KEY_ID": NEW_KID,
        "MY_NUMBER_INDEX_KEY": base64.b64encode(settings.MY_NUMBER_INDEX_KEY).decode(),
        "PYTHONUNBUFFERED": "1",
    }


def _rotate(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "my_number_rotate", f"--batch-size={BATCH}", *args],
        cwd=ROOT,
        env=_rotate_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_r_myn_2_rotation_in_batches_survives_an_interruption(
    transactional_db: Any, office_a: Office, make_resident: Callable[..., Resident]
) -> None:
    numbers = {}
    for n in range(RESIDENTS):
        number = valid_my_number(770_000 + n)
        numbers[make_resident(office_a, my_number=number).pk] = number
    old_kid = settings.MY_NUMBER_ACTIVE_KEY_ID

    # The first run is killed right after its first batch (a pause keeps it from finishing).
    first = _rotate("--pause=30")
    assert first.stdout is not None
    lines = [first.stdout.readline() for _ in range(2)]
    assert lines[0].startswith(f"key {NEW_KID}: {RESIDENTS} My Numbers under older keys")
    assert lines[1].strip() == f"re-encrypted {BATCH}/{RESIDENTS} ({100 * BATCH // RESIDENTS}%)"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    first.stdout.close()
    kids = [ciphertext_key_id(bytes(b)) for b in _ciphertexts()]
    assert kids.count(NEW_KID) == BATCH
    assert kids.count(old_kid) == RESIDENTS - BATCH

    second = _rotate()
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out
    left = RESIDENTS - BATCH
    assert f"{left} My Numbers under older keys" in out
    assert f"re-encrypted {left}/{left} (100%)" in out
    assert f"done: {left} re-encrypted, 0 left under older keys" in out

    ring = {**settings.MY_NUMBER_KEYS, NEW_KID: base64.b64decode(NEW_KEY)}
    with override_settings(MY_NUMBER_KEYS=ring, MY_NUMBER_ACTIVE_KEY_ID=NEW_KID):
        for resident in Resident.objects.filter(pk__in=numbers):
            blob = bytes(resident.my_number_ciphertext or b"")
            assert ciphertext_key_id(blob) == NEW_KID
            assert decrypt_my_number(blob, resident_id=resident.pk) == numbers[resident.pk]
            assert resident.my_number_index == my_number_index(numbers[resident.pk])

    again = _rotate()
    out, _ = again.communicate(timeout=120)
    assert "done: 0 re-encrypted, 0 left under older keys" in out


def _ciphertexts() -> list[Any]:
    return list(
        Resident.objects.exclude(my_number_ciphertext=None).values_list(
            "my_number_ciphertext", flat=True
        )
    )
