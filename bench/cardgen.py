"""The set-based card generator the benchmarks share: cards, renewals under way, certificates.

It reads a temporary table ``gen``, one row per resident, with the columns ``i`` (a serial
number), ``resident_id``, ``card_id``, ``office_id``, ``state`` (of the resident's card),
``category`` (the residence category, '' for nationals), ``issued_on`` and ``expires_on``,
and the parameters ``on`` (the day the data is for) and ``renewals`` (how many active holders
have a new card ordered: part of the N cards). ``cards_sql(arrived=…)`` says when a waiting
card arrived, as an SQL expression over those columns.
"""

from __future__ import annotations

_CARDS = """
INSERT INTO cards_card (
    id, resident_id, office_id, state, applied_on, issued_on, expires_on, arrived_on,
    handed_over_on, ended_on, end_reason, former_surname_listed, expiry_extended, photo_less,
    created_at, updated_at)
SELECT card_id, resident_id, office_id, state, issued_on - 30, issued_on, expires_on,
       CASE WHEN state = 'arrived' THEN {arrived} ELSE issued_on + 7 END,
       CASE WHEN state = 'arrived' THEN NULL ELSE issued_on + 14 END,
       CASE WHEN state IN ('returned', 'void') THEN %(on)s::date - 10 END,
       CASE WHEN state IN ('returned', 'void') THEN 'bench' ELSE '' END,
       false, false, false, now(), now()
FROM gen;

-- Renewals under way: a new card ordered for an active holder (part of the N cards).
INSERT INTO cards_card (
    id, resident_id, office_id, state, applied_on, issued_on, expires_on, arrived_on,
    handed_over_on, ended_on, end_reason, former_surname_listed, expiry_extended, photo_less,
    created_at, updated_at)
SELECT gen_random_uuid(), resident_id, office_id, 'ordered', %(on)s::date - 20, NULL, NULL, NULL,
       NULL, NULL, '', false, false, false, now(), now()
FROM (SELECT resident_id, office_id FROM gen WHERE state = 'active' AND i %% 50 = 7 ORDER BY i
      LIMIT %(renewals)s) renewing;

-- R-CRT-1: valid to the 5th birthday after issue, never past the card. Cards with more than
-- five years left carry their first certificates; the others were renewed at the 5-year mark
-- and end with the card.
INSERT INTO certificates_certificate (
    id, card_id, kind, serial, issued_on, expires_on, state, revoked_on, revoke_reason,
    created_at)
SELECT gen_random_uuid(), card_id, kind, md5(card_id::text || kind),
       CASE WHEN category = 'mid_long_term' THEN issued_on
            WHEN expires_on - %(on)s::date <= 1826
            THEN (expires_on - interval '5 years')::date + (i %% 200)::int ELSE issued_on END,
       CASE WHEN category = 'mid_long_term' OR expires_on - %(on)s::date <= 1826
            THEN expires_on ELSE (expires_on - interval '5 years')::date END,
       CASE WHEN state IN ('returned', 'void') THEN 'revoked' ELSE 'active' END,
       CASE WHEN state IN ('returned', 'void') THEN %(on)s::date - 10 END,
       CASE WHEN state IN ('returned', 'void') THEN 'bench' ELSE '' END,
       now()
FROM gen CROSS JOIN (VALUES ('auth'), ('signing')) AS k(kind)
WHERE state IN ('active', 'suspended', 'returned', 'void')
  AND (kind = 'auth' OR i %% 10 <> 0);
"""


def cards_sql(*, arrived: str) -> str:
    """The statements, with ``arrived`` as the waiting cards' arrival date. The result has
    no braces left, so it may be part of a string that is ``.format``-ted again."""
    return _CARDS.format(arrived=arrived)
