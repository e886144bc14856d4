"""Every page and API response with personal data is `Cache-Control: no-store` (it was only
on reveals, receipts and downloads); static files keep their cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.residents.models import Resident
from tests.urlwalk import url_patterns

pytestmark = pytest.mark.django_db


def test_every_route_answers_no_store(
    client_for: Callable[[User | None], Client], clerk_a: User, supervisor_a: User, auditor: User
) -> None:
    for user in (clerk_a, supervisor_a, auditor, None):
        client = client_for(user)
        for name, path in url_patterns():
            response = client.get(path)
            cache = response.get("Cache-Control", "")
            assert "no-store" in cache, (name, user, response.status_code, cache)
            assert "private" in cache, (name, user)


def test_a_resident_page_and_an_api_answer_are_no_store(
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    make_resident: Callable[..., Resident],
    office_a: Office,
) -> None:
    resident = make_resident(office_a)
    client = client_for(clerk_a)
    page = client.get(reverse("residents:detail", args=[resident.pk]))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    api = client.get(reverse("api-schema"))
    assert api.status_code == 200
    assert "no-store" in api["Cache-Control"]


def test_a_content_security_policy_with_a_nonce_and_no_framing(
    client_for: Callable[[User | None], Client], clerk_a: User
) -> None:
    response = client_for(clerk_a).get(reverse("residents:search"))
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    nonce = directives["script-src"].split("'nonce-")[1].split("'")[0]
    body = response.content.decode()
    assert f'nonce="{nonce}"' in body
    assert "onsubmit=" not in body
    assert "onclick=" not in body
    # A fresh nonce per response.
    again = client_for(clerk_a).get(reverse("residents:search"))["Content-Security-Policy"]
    assert nonce not in again


def test_templates_have_no_inline_handlers_or_styles() -> None:
    """What the policy refuses in a browser, refused here in the source (PDF templates, which
    WeasyPrint renders on the server, may style themselves)."""
    import re

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [*root.glob("templates/**/*.html"), *root.glob("apps/*/templates/**/*.html")]:
        if "pdf" in path.name or "/letters/" in str(path):
            continue
        text = path.read_text()
        if re.search(r"\son[a-z]+=|\sstyle=|<style|javascript:", text):
            offenders.append(str(path.relative_to(root)))
        for script in re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{path.relative_to(root)}: {script}")
    assert offenders == []
