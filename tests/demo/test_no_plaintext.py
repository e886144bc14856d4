"""R-MYN-2, the acceptance line: after a full demo run (the demo city through the counter
services, today's notice job, a search, a reveal and a card read), a `pg_dump` of the database
holds no plaintext My Number, in any spacing or as the bytes of a binary column."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.demo.seed import SHOWCASE_MY_NUMBER, seed_demo
from apps.fees.services import fee_schedule_seed_default
from apps.residents.crypto import decrypt_my_number
from apps.residents.models import Resident
from tests import dbrole
from tests.auth import mfa_login
from tests.leaks import my_numbers_in
from tests.services import require

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees committed data only


def _forms(number: str) -> list[str]:
    spaced = f"{number[:4]} {number[4:8]} {number[8:]}"
    return [number, spaced, spaced.replace(" ", "-"), number.encode().hex()]


def test_a_dump_after_a_full_demo_run_holds_no_plaintext_my_number(client: Client) -> None:
    pg_dump = shutil.which("pg_dump")
    require(pg_dump is not None, "pg_dump (postgresql-client)")
    # A transactional test before this one may have flushed the migrations' fee schedule.
    fee_schedule_seed_default()
    seed_demo(today=timezone.localdate())
    call_command("notices_run")

    clerk = User.objects.get(username="clerk_a")
    mfa_login(client, clerk)
    client.post(
        reverse("residents:search"),
        {"n-my_number": SHOWCASE_MY_NUMBER, "n-purpose": "identity_check"},
    )
    showcase = Resident.objects.get(
        my_number_last4=SHOWCASE_MY_NUMBER[-4:], resident_code="10000000001"
    )
    client.post(reverse("residents:reveal", args=[showcase.pk]), {"purpose": "card_procedure"})

    numbers = {
        decrypt_my_number(bytes(r.my_number_ciphertext or b""), resident_id=r.pk)
        for r in Resident.objects.exclude(my_number_ciphertext=None)
    }
    assert len(numbers) > 250

    params = dbrole.owner_params()
    env = {"PGPASSWORD": params.get("password", "")}
    args = [pg_dump, "--no-owner", "--dbname", params["dbname"], "--username", params["user"]]
    if params.get("host"):
        args += ["--host", params["host"]]
    if params.get("port"):
        args += ["--port", str(params["port"])]
    dump = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**__import__("os").environ, **env},
    ).stdout
    assert "COPY public.residents_resident" in dump
    leaked = [n for n in numbers if any(form in dump for form in _forms(n))]
    assert leaked == []
    # Nor any other valid My Number (outside UUIDs and hex tokens).
    assert my_numbers_in(dump) == []
