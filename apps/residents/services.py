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


# --- key rotation (R-MYN-2) ---------------------------------------------------------------------

ROTATION_JOB = SystemActor("manage.py my_number_rotate")


def _active_prefix() -> bytes:
    from django.conf import settings

    return b"v1:" + str(settings.MY_NUMBER_ACTIVE_KEY_ID).encode("ascii") + b":"


def my_numbers_under_old_keys() -> int:
    """How many stored My Numbers are encrypted under a key other than the active one."""
    from django.db import connection

    prefix = _active_prefix()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM residents_resident WHERE my_number_ciphertext IS NOT NULL "
            "AND substring(my_number_ciphertext from 1 for %s) <> %s",
            [len(prefix), prefix],
        )
        (count,) = cursor.fetchone()
    return int(count)


@service
@sensitive_variables("numbers")
def my_numbers_reencrypt_batch(*, acting_user: SystemActor = ROTATION_JOB, batch_size: int) -> int:
    """Re-encrypt up to `batch_size` My Numbers still under an old key with the active key
    (R-MYN-2: key rotation); returns how many. One transaction per batch: an interrupted
    rotation keeps every batch done so far, and the next run goes on with the rest (the rows
    are chosen by their key id, so nothing is done twice). Rows are locked (SKIP LOCKED: two
    runs at once share the work) and their blind index is untouched (its key is not rotated).
    The number is never shown to anyone, so no reveal is logged.
    """
    from django.db import connection

    prefix = _active_prefix()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, my_number_ciphertext FROM residents_resident "
            "WHERE my_number_ciphertext IS NOT NULL "
            "AND substring(my_number_ciphertext from 1 for %s) <> %s "
            "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            [len(prefix), prefix, batch_size],
        )
        rows = cursor.fetchall()
        numbers = [
            (resident_id, decrypt_my_number(bytes(blob), resident_id=resident_id))
            for resident_id, blob in rows
        ]
        for resident_id, number in numbers:
            cursor.execute(
                "UPDATE residents_resident SET my_number_ciphertext = %s WHERE id = %s",
                [encrypt_my_number(number, resident_id=resident_id), resident_id],
            )
    return len(rows)


# --- issue 10: the record changes that a card change follows (R-CHG-1, R-CHG-3) --------

_ADDRESS_MAX = 255
_NAME_MAX = 60


@service
def resident_change_address(
    *, acting_user: User | SystemActor, resident: Resident, address: str, postal_code: str = ""
) -> Resident:
    """The register's new address (a move within the city or a move-in), R-CHG-1 / R-CHG-4.

    The caller writes the card's endorsement in the same transaction.
    """
    address = address.strip()
    postal_code = postal_code.strip()
    if not address:
        raise ValidationError({"address": "新しい住所を入力してください。"})
    if len(address) > _ADDRESS_MAX:
        raise ValidationError({"address": f"住所は{_ADDRESS_MAX}文字以内で入力してください。"})
    if postal_code and not (
        len(postal_code) == 8
        and postal_code[3] == "-"
        and (postal_code[:3] + postal_code[4:]).isascii()
        and (postal_code[:3] + postal_code[4:]).isdigit()
    ):
        raise ValidationError({"postal_code": "郵便番号は「123-4567」の形で入力してください。"})
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.address == address:
        raise ValidationError({"address": "現在の住所と同じです。"})
    resident.address = address
    resident.postal_code = postal_code
    # A letter that came back flagged the old address; the new one is unconfirmed no more.
    resident.address_flagged_on = None
    resident.save(update_fields=["address", "postal_code", "address_flagged_on", "updated_at"])
    return resident


@service
def resident_change_name(
    *,
    acting_user: User | SystemActor,
    resident: Resident,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
) -> Resident:
    """The register's new name (marriage, adoption …), R-CHG-1."""
    values = {
        "family_name": family_name.strip(),
        "given_name": given_name.strip(),
        "family_name_kana": normalize_kana(family_name_kana),
        "given_name_kana": normalize_kana(given_name_kana),
    }
    errors = {
        name: "入力してください。" if not value else f"{_NAME_MAX * 2}文字以内で入力してください。"
        for name, value in values.items()
        if not value or len(value) > _NAME_MAX * 2
    }
    if errors:
        raise ValidationError(errors)
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if all(getattr(resident, name) == value for name, value in values.items()):
        raise ValidationError("現在の氏名と同じです。")
    for name, value in values.items():
        setattr(resident, name, value)
    resident.search_kana = normalize_kana(values["family_name_kana"] + values["given_name_kana"])
    resident.save()
    return resident


@service
def resident_set_former_surname(
    *,
    acting_user: User | SystemActor,
    resident: Resident,
    former_surname: str,
    former_surname_kana: str,
) -> Resident:
    """The former surname recorded on the register, so the card can list it (R-CHG-3)."""
    former_surname = former_surname.strip()
    kana = normalize_kana(former_surname_kana)
    if not former_surname or len(former_surname) > _NAME_MAX:
        raise ValidationError({"former_surname": f"旧氏を{_NAME_MAX}文字以内で入力してください。"})
    if not kana or len(kana) > _NAME_MAX * 2:
        raise ValidationError({"former_surname_kana": "旧氏のフリガナを入力してください。"})
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    resident.former_surname = former_surname
    resident.former_surname_kana = kana
    resident.save(update_fields=["former_surname", "former_surname_kana", "updated_at"])
    return resident


@service
def resident_change_period_of_stay(
    *, acting_user: User | SystemActor, resident: Resident, period_ends_on: date
) -> Resident:
    """A foreign resident's new end of stay, after a renewal or change of status (R-VAL-7)."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if not resident.is_foreign or resident.period_of_stay_ends_on is None:
        raise ValidationError("在留期間の定めのある外国人住民ではありません。")
    resident.period_of_stay_ends_on = period_ends_on
    resident.save(update_fields=["period_of_stay_ends_on", "updated_at"])
    return resident
