from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse

from apps.audit.models import AccessLog, Action
from apps.audit.services import access_log_record

pytestmark = pytest.mark.django_db


def test_r_aud_2_access_log_is_append_only_for_the_application(clerk_a) -> None:
    """The test run connects as madoguchi_app, like the server: the ORM cannot rewrite."""
    with transaction.atomic():
        row = access_log_record(actor=clerk_a, action=Action.SEARCH)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).update(action=Action.EXPORT)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()
    assert AccessLog.objects.get().action == Action.SEARCH


@pytest.mark.django_db(transaction=True)
def test_access_log_must_share_the_callers_transaction(clerk_a) -> None:
    with pytest.raises(RuntimeError):
        access_log_record(actor=clerk_a, action=Action.SEARCH)


def test_r_myn_2_reveal_row_needs_a_purpose(clerk_a) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.REVEAL_MY_NUMBER)


def test_audit_page_access(client_for, clerk_a, supervisor_a, auditor, clerk_b) -> None:
    with transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.SEARCH)
        access_log_record(actor=clerk_b, action=Action.SEARCH)
    url = reverse("audit:log")
    assert client_for(None).get(url).status_code == 302
    assert client_for(clerk_a).get(url).status_code == 403
    city_wide = client_for(auditor).get(url, {"action": "search"})
    assert city_wide.status_code == 200
    assert [row.actor.username for row in city_wide.context["page"]] == ["clerk_b", "clerk_a"]
    own_office = client_for(supervisor_a).get(url, {"action": "search"})
    assert [row.actor.username for row in own_office.context["page"]] == ["clerk_a"]
    # clerk_a's 403 above is itself on record.
    assert [
        row.actor.username
        for row in client_for(auditor).get(url, {"action": "denied"}).context["page"]
    ] == ["clerk_a"]


def test_audit_page_filters_by_action(client_for, clerk_a, auditor) -> None:
    with transaction.atomic():
        access_log_record(actor=clerk_a, action=Action.SEARCH)
        access_log_record(actor=clerk_a, action=Action.VIEW_RESIDENT)
    page = client_for(auditor).get(reverse("audit:log"), {"action": "search"}).context["page"]
    assert [row.action for row in page] == ["search"]
