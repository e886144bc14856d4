from __future__ import annotations

import uuid
from datetime import date

import pghistory
from django.contrib.postgres.indexes import HashIndex
from django.db import models

from apps.accounts.models import Office
from apps.core.countries import country_name_ja
from apps.residents.rules import (
    RESIDENCE_CATEGORY_LABELS,
    Residence,
    ResidenceCategory,
    age_on,
)


class Sex(models.TextChoices):
    """ISO 5218, as the card's chip stores it."""

    MALE = "1", "男"
    FEMALE = "2", "女"
    NOT_APPLICABLE = "9", "適用不能"


RESIDENCE_CATEGORY_CHOICES = [
    (member.value, RESIDENCE_CATEGORY_LABELS[member]) for member in ResidenceCategory
]


# Nothing of the My Number in the history, not even its last four digits: the retention job
# (R-MYN-2) erases them from the row, and a copy in the history would outlive it.
@pghistory.track(
    exclude=["my_number_ciphertext", "my_number_index", "my_number_last4", "search_kana"]
)
class Resident(models.Model):
    """A person on the city's resident register.

    The My Number is held only as ciphertext plus a keyed blind index (R-MYN-2); the last four
    digits are kept apart so that the masked form (**** **** 9018) needs no decryption.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        related_name="residents",
        verbose_name="担当庁舎",
        db_index=False,  # the two search indexes below start with office_id and serve it
    )
    # Unique through Meta.constraints: a unique=True field also gets a pattern-ops copy of
    # its index (for LIKE), and nothing searches these by prefix.
    resident_code = models.CharField("住民票コード", max_length=11)

    family_name = models.CharField("氏", max_length=60)
    given_name = models.CharField("名", max_length=60)
    family_name_kana = models.CharField("氏(カナ)", max_length=120)
    given_name_kana = models.CharField("名(カナ)", max_length=120)
    former_surname = models.CharField("旧氏", max_length=60, blank=True)
    former_surname_kana = models.CharField("旧氏(カナ)", max_length=120, blank=True)
    # Normalised kana of family + given name (katakana, no spaces): what the search matches.
    # Collation "C" (code-point order), for the column, its indexes and every comparison, so
    # that one index serves both the prefix match and the order (see Meta.indexes): PostgreSQL
    # turns LIKE 'ヤマダ%' into an index range only under "C", and an index serves ORDER BY
    # only in its own collation. For kana, code-point order is the order the database's
    # default collation (C.UTF-8) gave before: the syllabary, a small kana just before its
    # full-size one (ャ < ヤ), a voiced one just after its plain one (タ < ダ < チ), and the
    # long-vowel mark ー after ン (tests/residents/test_kana_order.py holds the list).
    search_kana = models.CharField(max_length=240, editable=False, db_collation="C")

    birth_date = models.DateField("生年月日")
    # The register's household number (世帯番号); empty when the register did not give one.
    # R-HND-4 compares it between residents sharing a kana name (resident_household below).
    household_code = models.CharField("世帯番号", max_length=20, blank=True, default="")
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("住所", max_length=255)
    address_flagged_on = models.DateField(
        "宛所不明の記録日",
        null=True,
        blank=True,
        help_text="郵便が宛所不明で戻った日。住所の確認が必要",
    )

    nationality = models.CharField("国籍", max_length=2, default="JP", help_text="ISO 3166-1")
    residence_category = models.CharField(
        "在留資格の区分", max_length=40, choices=RESIDENCE_CATEGORY_CHOICES, blank=True
    )
    period_of_stay_ends_on = models.DateField("在留期間等の満了日", null=True, blank=True)
    residence_event_on = models.DateField(
        "出生日または国籍喪失日", null=True, blank=True, help_text="経過滞在者のみ"
    )

    adult_ward = models.BooleanField("成年被後見人", default=False)
    legal_representative = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wards",
        verbose_name="法定代理人",
    )
    legal_representative_name = models.CharField("法定代理人(市外)", max_length=120, blank=True)

    # All three are emptied together when the retention period after departure has passed
    # (residents_erase_my_numbers); the record of the person stays. The index is NULL, not "",
    # once erased: the unique constraint (Meta) must not treat erased numbers as equal.
    my_number_ciphertext = models.BinaryField(null=True, editable=False)
    my_number_index = models.CharField(  # noqa: DJ001 - NULL on purpose, see above
        max_length=64, null=True, editable=False
    )
    my_number_last4 = models.CharField(max_length=4, blank=True, editable=False)
    my_number_erased_on = models.DateField(
        "個人番号の消去日", null=True, blank=True, editable=False
    )

    class Departure(models.TextChoices):
        MOVED_OUT = "moved_out", "転出"
        DIED = "died", "死亡"

    left_on = models.DateField("住民でなくなった日", null=True, blank=True)
    left_reason = models.CharField(
        "事由", max_length=16, choices=Departure.choices, blank=True, default=""
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "住民"
        verbose_name_plural = "住民"
        indexes = [
            # The clerk's search (apps.residents.selectors.resident_search): in the office,
            # kana prefix, ordered by kana then date of birth. The scan starts at the prefix
            # and stops after a screenful, however common the name.
            models.Index(
                fields=["office", "search_kana", "birth_date"], name="resident_office_kana"
            ),
            # The same search with a date of birth: equality on the date first, then the
            # kana range, so that even one kana and a date read only that day's births.
            models.Index(
                fields=["office", "birth_date", "search_kana"], name="resident_office_dob"
            ),
            # R-HND-4: the same kana name anywhere in the city, at every handover: one probe.
            # A hash index serves equality only, so it never takes the office's kana prefix
            # search away from resident_office_kana (a B-tree on the kana would).
            HashIndex(fields=["search_kana"], name="resident_kana_city"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["resident_code"], name="resident_code_unique"),
            models.UniqueConstraint(
                fields=["my_number_index"], name="resident_my_number_index_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(resident_code__regex=r"^[0-9]{11}$"),
                name="resident_code_11_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(my_number_last4__regex=r"^[0-9]{4}$")
                | models.Q(my_number_erased_on__isnull=False, my_number_last4=""),
                name="resident_my_number_last4_digits",
            ),
            # Held (ciphertext and index) or erased (neither), never half of it.
            models.CheckConstraint(
                condition=models.Q(
                    my_number_erased_on__isnull=True,
                    my_number_ciphertext__isnull=False,
                    my_number_index__isnull=False,
                )
                | models.Q(
                    my_number_erased_on__isnull=False,
                    my_number_ciphertext__isnull=True,
                    my_number_index__isnull=True,
                ),
                name="resident_my_number_held_or_erased",
            ),
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True, left_reason="")
                | models.Q(left_on__isnull=False) & ~models.Q(left_reason=""),
                name="resident_departure_has_a_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(nationality="JP", residence_category="")
                | ~models.Q(nationality="JP"),
                name="resident_nationals_have_no_residence_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.family_name}\u3000{self.given_name}"

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana}\u3000{self.given_name_kana}"

    @property
    def is_foreign(self) -> bool:
        return self.nationality != "JP"

    @property
    def nationality_label(self) -> str:
        """The nationality in Japanese (PH → フィリピン), as the clerk's screens show it."""
        return country_name_ja(self.nationality)

    @property
    def residence(self) -> Residence | None:
        """The R-VAL-6 input; None for Japanese nationals (and foreigners of no category)."""
        if not self.residence_category:
            return None
        return Residence(
            category=ResidenceCategory(self.residence_category),
            period_ends_on=self.period_of_stay_ends_on,
            event_on=self.residence_event_on,
        )

    @property
    def my_number_masked(self) -> str:
        # Same shape as rules.mask_my_number, without decrypting anything.
        if self.my_number_erased_on is not None:
            return "(保存期間経過により消去済み)"
        return f"**** **** {self.my_number_last4}"

    def age_on(self, on: date) -> int:
        return age_on(birth_date=self.birth_date, on=on)
