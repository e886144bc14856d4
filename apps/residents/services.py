from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import structlog
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.accounts import policy
from apps.accounts.models import Office, User
from apps.audit.models import AccessLog, Action, Alert, Outcome, Purpose
from apps.audit.services import access_log_record, alert_raise
from apps.core.service import SystemActor, service
from apps.residents.crypto import decrypt_my_number, encrypt_my_number, my_number_index
from apps.residents.kana import normalize_kana
from apps.residents.models import Resident
from apps.residents.rules import Residence, normalize_my_number
from apps.residents.selectors import (
    ResidentSearch,
    resident_detail,
    resident_find_by_my_number,
    resident_search,
)

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ResidentData:
    """What the register gives us about a person (everything but the My Number)."""

    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    address: str
    postal_code: str = ""
    former_surname: str = ""
    former_surname_kana: str = ""
    nationality: str = "JP"
    residence: Residence | None = None
    adult_ward: bool = False
    legal_representative: Resident | None = None
    legal_representative_name: str = ""
    # The register's household number (世帯番号): R-HND-4 warns of a same-name household member.
    household_code: str = ""


@service
@sensitive_variables("my_number", "number")
def resident_register(
    *, acting_user: User | SystemActor, office: Office, data: ResidentData, my_number: str
) -> Resident:
    """Add a resident with their My Number (R-MYN-1 checked, R-MYN-2 encrypted and indexed)."""
    try:
        number = normalize_my_number(my_number)
    except ValueError as exc:
        raise ValidationError({"my_number": str(exc)}) from None
    index = my_number_index(number)
    if Resident.objects.filter(my_number_index=index).exists():
        raise ValidationError({"my_number": "この個人番号は既に別の住民に登録されています。"})
    if Resident.objects.filter(resident_code=data.resident_code).exists():
        raise ValidationError({"resident_code": "この住民票コードは既に登録されています。"})

    resident_id = uuid.uuid4()
    residence = data.residence
    resident = Resident(
        id=resident_id,
        office=office,
        resident_code=data.resident_code,
        family_name=data.family_name,
        given_name=data.given_name,
        family_name_kana=data.family_name_kana,
        given_name_kana=data.given_name_kana,
        search_kana=normalize_kana(data.family_name_kana + data.given_name_kana),
        former_surname=data.former_surname,
        former_surname_kana=data.former_surname_kana,
        birth_date=data.birth_date,
        sex=data.sex,
        address=data.address,
        postal_code=data.postal_code,
        nationality=data.nationality,
        residence_category=residence.category.value if residence else "",
        period_of_stay_ends_on=residence.period_ends_on if residence else None,
        residence_event_on=residence.event_on if residence else None,
        adult_ward=data.adult_ward,
        legal_representative=data.legal_representative,
        legal_representative_name=data.legal_representative_name,
        household_code=data.household_code,
        my_number_ciphertext=encrypt_my_number(number, resident_id=resident_id),
        my_number_index=index,
        my_number_last4=number[-4:],
    )
    resident.full_clean(exclude=["my_number_ciphertext", "search_kana", "legal_representative"])
    resident.save(force_insert=True)
    return resident


class RevealRefusal(enum.Enum):
    """Why a permitted user's reveal was refused (R-AUD-3); the refusal is logged too."""

    REAUTHENTICATE = "reauthenticate"
    RATE_LIMITED = "rate_limited"

    @property
    def message(self) -> str:
        if self is RevealRefusal.REAUTHENTICATE:
            return "個人番号を表示するには、もう一度本人確認(再認証)をしてください。"
        return (
            "1時間あたりの個人番号の表示回数の上限に達したため、表示できません。"
            "監督者に通知しました。"
        )


@dataclass(frozen=True)
class Reveal:
    my_number: str | None
    refusal: RevealRefusal | None = None


@service
@sensitive_variables()
def resident_reveal_my_number(
    *,
    acting_user: User,
    resident: Resident,
    purpose: str,
    authenticated_seconds_ago: float | None,
    ip_address: str | None = None,
) -> Reveal:
    """Decrypt the My Number for a designated handler, with a purpose, logged (R-MYN-2,
    R-AUD-3).

    Refused (403) without the designated-handler permission or outside the user's office.
    Refused, logged as denied, when the user's last sign-in or re-authentication is older
    than 5 minutes, or when they already revealed MY_NUMBER_REVEALS_PER_HOUR numbers in the
    last hour (then their supervisors get an alert). The log row is written in the same
    transaction as the reveal: if logging fails, nothing is shown.
    """
    policy.check(
        policy.may_reveal_my_number(acting_user) and policy.same_office(acting_user, resident),
        "個人番号を表示する権限がありません。",
    )
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": "利用目的を選んでください。"})
    if resident.my_number_ciphertext is None:
        raise ValidationError("この住民の個人番号は保存期間の経過により消去されています。")
    # One user's reveals one at a time: the count below cannot be raced past the limit.
    User.objects.select_for_update().filter(pk=acting_user.pk).first()
    refusal = None
    if not policy.authenticated_recently_enough_to_reveal(authenticated_seconds_ago):
        refusal = RevealRefusal.REAUTHENTICATE
    else:
        since = timezone.now() - timedelta(hours=1)
        recent = AccessLog.objects.filter(
            actor=acting_user, action=Action.REVEAL_MY_NUMBER, outcome=Outcome.OK, at__gte=since
        ).count()
        if not policy.reveal_rate_allows(recent):
            refusal = RevealRefusal.RATE_LIMITED
            alert_raise(
                acting_user=acting_user,
                kind=Alert.Kind.REVEAL_RATE,
                actor=acting_user,
                detail={"reveals_in_the_last_hour": recent},
            )
    access_log_record(
        actor=acting_user,
        action=Action.REVEAL_MY_NUMBER,
        resident=resident,
        purpose=purpose,
        outcome=Outcome.OK if refusal is None else Outcome.DENIED,
        detail={} if refusal is None else {"reason": refusal.value},
        ip_address=ip_address,
    )
    if refusal is not None:
        return Reveal(my_number=None, refusal=refusal)
    return Reveal(
        my_number=decrypt_my_number(bytes(resident.my_number_ciphertext), resident_id=resident.id)
    )


@service
def resident_flag_address(
    *, acting_user: User | SystemActor, resident: Resident, on: date
) -> Resident:
    """Post came back undeliverable (宛所不明) on `on`: clerks are warned to check the address.

    Keeps the latest such day; an older return does not hide a newer one.
    """
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.address_flagged_on is None or resident.address_flagged_on < on:
        resident.address_flagged_on = on
        resident.save(update_fields=["address_flagged_on", "updated_at"])
    return resident


# --- looks at residents, each with its access-log row (R-AUD-1) ------------------------------
# The look and its record are one transaction: if the row cannot be written, nothing is shown.


@service
def resident_search_logged(
    *,
    acting_user: User,
    kana: str,
    birth_date: date | None = None,
    ip_address: str | None = None,
) -> ResidentSearch:
    """A kana (and date of birth) search. The row records which fields were used and how many
    residents were listed (and ``more`` when there were more than a screenful: how many more
    is never counted), never the terms typed."""
    found = resident_search(user=acting_user, kana=kana, birth_date=birth_date)
    used = [name for name, value in (("kana", kana), ("birth_date", birth_date)) if value]
    access_log_record(
        actor=acting_user,
        action=Action.SEARCH,
        detail={
            "fields": used,
            "matched": len(found.residents),
            **({"more": True} if found.more else {}),
        },
        ip_address=ip_address,
    )
    return found


@service
@sensitive_variables("my_number")
def resident_find_by_my_number_logged(
    *, acting_user: User, my_number: str, purpose: str, ip_address: str | None = None
) -> Resident | None:
    """An exact My Number search (normalised number) with its purpose (R-MYN-2)."""
    found = resident_find_by_my_number(user=acting_user, my_number=my_number)
    access_log_record(
        actor=acting_user,
        action=Action.SEARCH_MY_NUMBER,
        resident=found,
        purpose=purpose,
        detail={"matched": 1 if found else 0},
        ip_address=ip_address,
    )
    return found


@service
def resident_view_logged(
    *, acting_user: User, resident_id: uuid.UUID, ip_address: str | None = None
) -> Resident:
    """The resident page's resident (404 out of scope), its view logged."""
    resident = resident_detail(user=acting_user, resident_id=resident_id)
    access_log_record(
        actor=acting_user, action=Action.VIEW_RESIDENT, resident=resident, ip_address=ip_address
    )
    return resident


RETENTION_JOB = SystemActor("residents.erase_my_numbers")


@service
def resident_record_departure(
    *, acting_user: User | SystemActor, resident: Resident, on: date, reason: str
) -> Resident:
    """The resident moved out of the city or died on `on` (from the resident register).

    From then the retention period of their My Number runs (residents_erase_my_numbers).
    """
    if reason not in Resident.Departure.values:
        raise ValidationError({"reason": "転出または死亡を選んでください。"})
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    resident.left_on = on
    resident.left_reason = reason
    resident.save(update_fields=["left_on", "left_reason", "updated_at"])
    return resident


@service
def residents_erase_my_numbers(
    *, acting_user: SystemActor = RETENTION_JOB, today: date, retention_days: int | None = None
) -> int:
    """Delete the My Number (ciphertext, blind index, last four digits) of every resident who
    left the city (moved out or died) more than MY_NUMBER_RETENTION_DAYS ago; the record of
    the person stays (R-MYN-2, PPC guideline: specific personal information is deleted once
    the period it must be kept for has passed). Set-based and idempotent; returns the count.
    """
    from django.conf import settings

    days = settings.MY_NUMBER_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = today - timedelta(days=days)
    erased = Resident.objects.filter(
        left_on__isnull=False, left_on__lt=cutoff, my_number_erased_on__isnull=True
    ).update(
        my_number_ciphertext=None,
        my_number_index=None,
        my_number_last4="",
        my_number_erased_on=today,
        updated_at=timezone.now(),
    )
    logger.info("my numbers erased", count=erased, left_before=cutoff.isoformat())
    return erased
