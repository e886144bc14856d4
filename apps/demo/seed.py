"""A fictional city for `make run`: offices, counters, staff of every role and a few hundred
residents with cards and certificates in every state.

Everything here is invented. My Numbers are random but valid by the check digit (R-MYN-1)
so the whole system treats them as real. The data go in through the same services the
counter uses, so the demo cannot hold a state the product could not reach.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction

from apps.accounts import policy
from apps.accounts.mfa import totp_enrol
from apps.accounts.models import Counter, Office, User
from apps.accounts.roles import Role
from apps.applications.arrivals import HEADER, arrivals_import
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind, IdentityDocument
from apps.applications.services import ApplicationInput, application_pay, application_receive
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import (
    card_arrive,
    card_change_state,
    card_hand_over,
    card_order,
    cards_expire_due,
)
from apps.certificates.rules import CertificateKind, PinKind, may_issue, under_certificate_age
from apps.certificates.services import (
    card_end,
    certificate_issue,
    certificates_expire_due,
    pin_state_observe,
    pin_states_initialize,
)
from apps.core.service import SystemActor
from apps.demo.card_services import seed_card_services
from apps.demo.seed_changes import create_change_residents
from apps.fees.rules import ReissueReason
from apps.residents.models import Resident
from apps.residents.rules import (
    Residence,
    ResidenceCategory,
    my_number_check_digit,
    needs_legal_representative,
)
from apps.residents.services import ResidentData, resident_register

# Who the demo loader acts as when no clerk would have done it (the register, J-LIS, time).
DEMO = SystemActor("manage.py seed_demo")
DEMO_PASSWORD = "madoguchi-demo-2026"  # noqa: S105 - printed by make run on purpose
# Every demo user has this TOTP secret enrolled (the second factor is required before any
# page with personal data): add it to an authenticator app once, or run
# `python manage.py demo_totp` for the current code. Demo only, printed on purpose.
DEMO_TOTP_SECRET = "MADOGUCHIDEMOTOTPSECRETXYZ234567"  # noqa: S105

# The resident the reader-agent simulator's default card belongs to (reader_agent simulate).
SHOWCASE_MY_NUMBER = "123456789018"
SHOWCASE_AUTH_SERIAL = "a0001"  # the simulator's default ordinary card (PersonaData)

FAMILY = [
    ("山田", "ヤマダ"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
    ("山口", "ヤマグチ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
]
GIVEN_F = [
    ("花子", "ハナコ"),
    ("陽菜", "ヒナ"),
    ("美咲", "ミサキ"),
    ("結衣", "ユイ"),
    ("さくら", "サクラ"),
    ("恵子", "ケイコ"),
    ("由美", "ユミ"),
    ("葵", "アオイ"),
    ("真由美", "マユミ"),
    ("和子", "カズコ"),
]
GIVEN_M = [
    ("太郎", "タロウ"),
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("健一", "ケンイチ"),
    ("蓮", "レン"),
    ("誠", "マコト"),
    ("悠真", "ユウマ"),
    ("浩二", "コウジ"),
    ("拓也", "タクヤ"),
    ("隆", "タカシ"),
]
FOREIGN = [
    ("NGUYEN", "VAN AN", "グエン", "ヴァンアン", "VN"),
    ("SILVA", "ANA", "シルバ", "アナ", "BR"),
    ("KIM", "MINJUN", "キム", "ミンジュン", "KR"),
    ("WANG", "FANG", "ワン", "ファン", "CN"),
    ("SANTOS", "MARIA", "サントス", "マリア", "PH"),
    ("SMITH", "EMMA", "スミス", "エマ", "US"),
]
TOWNS = ["旭町", "本町", "錦岡", "緑町", "日新町", "桜木町", "若草町", "美園町"]


@dataclass
class SeedReport:
    residents: int
    cards: int
    applications: int


@dataclass
class _Desk:
    """One office's counter in the demo: its clerk, and the arrivals J-LIS will send it."""

    clerk: User
    arrivals: list[tuple[uuid.UUID, date, date]] = field(default_factory=list)


def seed_demo(*, today: date, residents: int = 300, seed: int = 2026) -> SeedReport | None:
    """Create the demo data set once; returns None if it is already there."""
    if Office.objects.filter(code="honcho").exists():
        return None
    rng = random.Random(seed)  # noqa: S311 - fictional data, not security
    with transaction.atomic():
        honcho = Office.objects.create(code="honcho", name="本庁 市民課", kind=Office.Kind.MAIN)
        branch = Office.objects.create(code="nishiki", name="錦岡支所", kind=Office.Kind.BRANCH)
        counters = [
            Counter.objects.create(office=honcho, code=str(n), name=f"{n}番窓口") for n in (1, 2, 3)
        ]
        branch_counter = Counter.objects.create(office=branch, code="1", name="1番窓口")
        staff = _create_staff(
            honcho=honcho, branch=branch, counters=counters, branch_counter=branch_counter
        )
        desks = {honcho.pk: _Desk(clerk=staff["clerk_a"]), branch.pk: _Desk(clerk=staff["clerk_b"])}
        _create_showcase(office=honcho, today=today)
        # Issue 10: a resident in each situation of the card changes and express.
        create_change_residents(office=honcho, clerk=staff["clerk_a"], today=today)
        # One resident in each situation of the procedures on a card in use.
        seed_card_services(office=honcho, clerk=staff["clerk_a"], today=today)
        used_numbers = {SHOWCASE_MY_NUMBER}
        for n in range(residents):
            office = honcho if n % 4 else branch
            _create_resident(
                rng,
                office=office,
                desk=desks[office.pk],
                today=today,
                used_numbers=used_numbers,
                n=n,
            )
        cards_expire_due(acting_user=DEMO, on=today)
        certificates_expire_due(acting_user=DEMO, on=today)
        _create_custody_cases(
            rng, desk=desks[honcho.pk], office=honcho, today=today, used_numbers=used_numbers
        )
        for desk in desks.values():
            _import_arrivals(desk, today=today)
        _receive_into_custody(staff=staff, offices=(honcho, branch))
    return SeedReport(
        residents=Resident.objects.count(),
        cards=Card.objects.count(),
        applications=Application.objects.count(),
    )


def _create_custody_cases(
    rng: random.Random, *, desk: _Desk, office: Office, today: date, used_numbers: set[str]
) -> None:
    """R-HND-4: two residents of one household sharing a kana name, both with a card waiting;
    R-STK-3: one card that arrived seven months ago and was never collected."""
    cases = [
        ("10000000901", "同名", "花子", "ドウメイ", "ハナコ", date(1950, 3, 3), "D0001", 40),
        ("10000000902", "同名", "華子", "ドウメイ", "ハナコ", date(1990, 7, 7), "D0001", 40),
        ("10000000903", "放置", "太郎", "ホウチ", "タロウ", date(1970, 1, 20), "D0002", 240),
    ]
    for code, family, given, family_kana, given_kana, born, household, applied_ago in cases:
        resident = resident_register(
            acting_user=DEMO,
            office=office,
            data=ResidentData(
                resident_code=code,
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                birth_date=born,
                sex="2" if given.endswith("子") else "1",
                address="みどり市旭町2丁目3番4号",
                postal_code="053-0000",
                household_code=household,
            ),
            my_number=_random_my_number(rng, used_numbers),
        )
        applied = today - timedelta(days=applied_ago)
        application = application_receive(
            acting_user=desk.clerk,
            resident=resident,
            data=ApplicationInput(
                kind=ApplicationKind.FIRST_ISSUE,
                documents=frozenset({IdentityDocument.DRIVERS_LICENSE}),
            ),
            on=applied,
        )
        assert application.new_card_id is not None  # noqa: S101 - a first issue orders a card
        issued = applied + timedelta(days=21)
        desk.arrivals.append((application.new_card_id, issued, issued + timedelta(days=7)))


def _receive_into_custody(*, staff: dict[str, User], offices: tuple[Office, ...]) -> None:
    """Every office's places, and its arrived cards received into the safe as lots (R-STK-1)."""
    from apps.custody.models import Place, PlaceKind
    from apps.custody.services import lot_receive

    clerks = {staff[name].office_id: staff[name] for name in ("clerk_a", "clerk_b")}
    for office in offices:
        safe = Place.objects.create(office=office, name="金庫", kind=PlaceKind.SAFE, sort_order=1)
        Place.objects.create(office=office, name="保管箱A", kind=PlaceKind.BOX, sort_order=2)
        Place.objects.create(office=office, name="交付トレイ", kind=PlaceKind.TRAY, sort_order=3)
        days = (
            Card.objects.filter(office=office, state=CardState.ARRIVED)
            .values_list("arrived_on", flat=True)
            .distinct()
        )
        for day in sorted(d for d in days if d is not None):
            lot_receive(acting_user=clerks[office.pk], place=safe, arrived_on=day)


def _import_arrivals(desk: _Desk, *, today: date) -> None:
    """The cards J-LIS made for the demo's recent applications arrive as the real file does."""
    if not desk.arrivals:
        return
    lines = [HEADER] + [
        f"{card_id},{issued},{arrived}" for card_id, issued, arrived in desk.arrivals
    ]
    arrivals_import(
        acting_user=desk.clerk,
        content=("\n".join(lines) + "\n").encode(),
        filename="demo-arrivals.csv",
        on=today,
    )


def _create_staff(
    *, honcho: Office, branch: Office, counters: list[Counter], branch_counter: Counter
) -> dict[str, User]:
    specs = [
        ("clerk_a", "窓口", "一郎", Role.CLERK, honcho, counters[0]),
        ("clerk_a2", "窓口", "二郎", Role.CLERK, honcho, counters[1]),
        ("clerk_b", "支所", "三郎", Role.CLERK, branch, branch_counter),
        ("supervisor_a", "監督", "和子", Role.SUPERVISOR, honcho, None),
        ("auditor", "監査", "明", Role.AUDITOR, honcho, None),
        ("admin", "管理", "花", Role.ADMIN, None, None),
    ]
    out = {}
    for username, last, first, role, office, counter in specs:
        user = User(
            username=username,
            last_name=last,
            first_name=first,
            role=role,
            office=office,
            counter=counter,
            is_staff=policy.uses_django_admin(role),
            is_superuser=policy.uses_django_admin(role),
            # R-AUD-3: clerk_a2 is not a designated handler, to show the difference.
            designated_handler=username in {"clerk_a", "clerk_b", "supervisor_a"},
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        totp_enrol(user, secret=DEMO_TOTP_SECRET)
        out[username] = user
    return out


def _random_address(rng: random.Random) -> str:
    town = rng.choice(TOWNS)
    return (
        f"みどり市{town}{rng.randrange(1, 9)}丁目{rng.randrange(1, 30)}番{rng.randrange(1, 20)}号"
    )


def _random_my_number(rng: random.Random, used: set[str]) -> str:
    while True:
        first11 = "".join(str(rng.randrange(10)) for _ in range(11))
        number = first11 + str(my_number_check_digit(first11))
        if number not in used:
            used.add(number)
            return number


def _create_showcase(*, office: Office, today: date) -> None:
    resident = resident_register(
        acting_user=DEMO,
        office=office,
        data=ResidentData(
            resident_code="10000000001",
            family_name="山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            birth_date=date(1985, 10, 10),
            sex="2",
            address="みどり市旭町1丁目1番1号",
            postal_code="053-0000",
            former_surname="佐藤",
            former_surname_kana="サトウ",
        ),
        my_number=SHOWCASE_MY_NUMBER,
    )
    card = card_order(acting_user=DEMO, resident=resident, applied_on=date(2020, 4, 20))
    card = card_arrive(
        acting_user=DEMO, card=card, issued_on=date(2020, 5, 15), arrived_on=date(2020, 5, 25)
    )
    card = card_hand_over(acting_user=DEMO, card=card, on=date(2020, 6, 2))
    # First certificates with the card, renewed at the counter before their 5th birthday
    # (R-CRT-1): the AUTH serial is the one the reader simulator's card carries.
    for kind in CertificateKind:
        certificate_issue(
            acting_user=DEMO,
            card=card,
            kind=kind,
            serial=secrets.token_hex(8),
            issued_on=date(2020, 5, 15),
        )
    certificate_issue(
        acting_user=DEMO,
        card=card,
        kind=CertificateKind.AUTH,
        serial=SHOWCASE_AUTH_SERIAL,
        issued_on=date(2024, 8, 20),
    )
    certificate_issue(
        acting_user=DEMO,
        card=card,
        kind=CertificateKind.SIGNING,
        serial=secrets.token_hex(8),
        issued_on=date(2024, 8, 20),
    )
    pin_states_initialize(acting_user=DEMO, card=card)


def _create_resident(
    rng: random.Random, *, office: Office, desk: _Desk, today: date, used_numbers: set[str], n: int
) -> None:
    foreign = rng.random() < 0.18
    sex = rng.choice(["1", "2"])
    kind = rng.random()
    if kind < 0.12:
        birth = today - timedelta(days=rng.randrange(200, 15 * 365))  # children
    else:
        birth = today - timedelta(days=rng.randrange(18 * 365, 90 * 365))
    residence: Residence | None = None
    if foreign:
        fam, giv, fam_k, giv_k, nationality = rng.choice(FOREIGN)
        category = rng.choice(list(ResidenceCategory)[:4])
        if category is ResidenceCategory.MID_LONG_TERM:
            residence = Residence(
                category=category, period_ends_on=today + timedelta(days=rng.randrange(-200, 1500))
            )
        else:
            residence = Residence(category=category)
    else:
        fam, fam_k = rng.choice(FAMILY)
        giv, giv_k = rng.choice(GIVEN_M if sex == "1" else GIVEN_F)
        nationality = "JP"
    adult_ward = not foreign and kind > 0.98
    resident = resident_register(
        acting_user=DEMO,
        office=office,
        data=ResidentData(
            resident_code=f"2{n:010d}",
            family_name=fam,
            given_name=giv,
            family_name_kana=fam_k,
            given_name_kana=giv_k,
            birth_date=birth,
            sex=sex,
            address=_random_address(rng),
            postal_code=f"053-{rng.randrange(0, 10000):04d}",
            nationality=nationality,
            residence=residence,
            adult_ward=adult_ward,
            legal_representative_name="後見人 田中 一郎" if adult_ward else "",
        ),
        my_number=_random_my_number(rng, used_numbers),
    )
    _give_cards(rng, resident=resident, desk=desk, today=today)


def _give_cards(rng: random.Random, *, resident: Resident, desk: _Desk, today: date) -> None:
    scenario = rng.random()
    if scenario < 0.08:
        return  # no card yet
    earliest = max(date(2016, 1, 15), resident.birth_date + timedelta(days=30))
    stay_ends = resident.period_of_stay_ends_on
    applied = today - timedelta(days=rng.randrange(5, 60))
    if (
        scenario < 0.14
        and (stay_ends is None or stay_ends > today + timedelta(days=90))
        and not needs_legal_representative(birth_date=resident.birth_date, on=applied)
    ):
        # Applied recently at the counter: ordered, or arrived and waiting for pickup.
        application = application_receive(
            acting_user=desk.clerk,
            resident=resident,
            data=ApplicationInput(
                kind=ApplicationKind.FIRST_ISSUE,
                documents=frozenset({IdentityDocument.DRIVERS_LICENSE}),
            ),
            on=applied,
        )
        if scenario >= 0.10 and applied + timedelta(days=30) <= today and application.new_card_id:
            issued = applied + timedelta(days=21)
            desk.arrivals.append((application.new_card_id, issued, issued + timedelta(days=7)))
        return
    latest = today - timedelta(days=70)
    if resident.period_of_stay_ends_on:
        # A card is only made while the stay lasts; its expiry is the end of stay (R-VAL-6).
        earliest = max(earliest, resident.period_of_stay_ends_on - timedelta(days=5 * 365))
        latest = min(latest, resident.period_of_stay_ends_on - timedelta(days=40))
    if latest <= earliest:
        return
    span = (latest - earliest).days
    applied = earliest + timedelta(days=rng.randrange(span))
    card = card_order(acting_user=DEMO, resident=resident, applied_on=applied)
    card = _arrive(card, applied, today)
    expires_on = card.expires_on
    if expires_on is None or expires_on <= (card.arrived_on or today):
        return
    handed_on = min(today, (card.arrived_on or today) + timedelta(days=rng.randrange(3, 40)))
    card = card_hand_over(acting_user=DEMO, card=card, on=handed_on)
    _issue_certificates(rng, card=card, resident=resident)
    if expires_on < today:
        return  # the calendar job expires it (cards_expire_due at the end of seed_demo)
    roll = rng.random()
    if roll < 0.05:
        card_change_state(
            acting_user=DEMO,
            card=card,
            to_state=CardState.SUSPENDED,
            on=today - timedelta(days=rng.randrange(1, 30)),
            reason="紛失の届出(コールセンター)",
        )
    elif roll < 0.08:
        # Lost: the reissue was received at the counter; some have paid, some not yet.
        application = application_receive(
            acting_user=desk.clerk,
            resident=resident,
            data=ApplicationInput(
                kind=ApplicationKind.REISSUE,
                reissue_reason=ReissueReason.LOST,
                police_report_no=f"R8-{rng.randrange(1000, 9999)}",
                old_card_returned=False,
                documents=frozenset({IdentityDocument.PASSPORT}),
            ),
            on=today - timedelta(days=rng.randrange(1, 20)),
        )
        if rng.random() < 0.6:
            application_pay(acting_user=desk.clerk, application=application, on=today)
    elif roll < 0.10:
        card_end(
            acting_user=DEMO,
            card=card,
            to_state=CardState.VOID,
            on=today - timedelta(days=rng.randrange(1, 300)),
            reason="転出後90日経過",
        )


def _arrive(card: Card, applied: date, today: date) -> Card:
    issued = min(applied + timedelta(days=21), today - timedelta(days=1))
    return card_arrive(
        acting_user=DEMO,
        card=card,
        issued_on=issued,
        arrived_on=min(issued + timedelta(days=7), today),
    )


def _issue_certificates(rng: random.Random, *, card: Card, resident: Resident) -> None:
    if card.issued_on is None:
        return
    rep = rng.random() < 0.6
    for kind in (CertificateKind.AUTH, CertificateKind.SIGNING):
        if may_issue(
            kind=kind,
            birth_date=resident.birth_date,
            on=card.issued_on,
            adult_ward=resident.adult_ward,
            legal_rep_requests=rep,
        ):
            certificate_issue(
                acting_user=DEMO,
                card=card,
                kind=kind,
                serial=secrets.token_hex(9),
                issued_on=card.issued_on,
                legal_rep_requests=rep,
            )
    pin_states_initialize(acting_user=DEMO, card=card)
    _maybe_renew_certificates(rng, card=card, resident=resident)
    if rng.random() < 0.06:
        pin_state_observe(acting_user=DEMO, card=card, kind=PinKind.AUTH, tries_left=0)
    holder_signs = not under_certificate_age(birth_date=resident.birth_date, on=card.issued_on)
    if holder_signs and rng.random() < 0.04:
        pin_state_observe(acting_user=DEMO, card=card, kind=PinKind.SIGNING, tries_left=0)


def _maybe_renew_certificates(rng: random.Random, *, card: Card, resident: Resident) -> None:
    """Most holders renew certificates that end before the card does (R-CRT-1, R-CRT-3)."""
    from django.utils import timezone

    today = timezone.localdate()
    if card.expires_on is None:
        return
    for certificate in list(card.certificates.filter(state="active")):
        renew_on = certificate.expires_on - timedelta(days=rng.randrange(10, 80))
        if certificate.expires_on < card.expires_on and renew_on < today and rng.random() < 0.7:
            kind = CertificateKind(certificate.kind)
            if may_issue(
                kind=kind,
                birth_date=resident.birth_date,
                on=renew_on,
                adult_ward=resident.adult_ward,
                legal_rep_requests=True,
            ):
                certificate_issue(
                    acting_user=DEMO,
                    card=card,
                    kind=kind,
                    serial=secrets.token_hex(9),
                    issued_on=renew_on,
                    legal_rep_requests=True,
                )
