# ruff: noqa: S608 - only settings and constants of this code are formatted into the SQL below.
"""The reports' nightly summaries: what the materialized views hold (migrations 0002, 0003).

``reports_activitydaily``: the applications of every day before the day of the refresh,
counted per step: receipts per day, office, counter, clerk and kind; handovers per day,
office, kind and number of calendar days since the receipt. A report over a fiscal year reads
these few thousand rows, and only the days since the refresh from the applications themselves
(apps.reports.selectors.activity_report): a day's receipts never change afterwards, and a
later handover of an old application falls on a later day.

``reports_expirywave``: per month of expiry (this month and the next 23, from the day of the
refresh), office and class, how many. Classes: ``national`` (Japanese nationals),
``foreign_national`` (foreign residents whose card follows the national rule),
``stay`` (foreign residents whose card ends with the period of stay, R-VAL-6: they need the
expiry change, R-VAL-7, and get the city's reminder, R-NOT-3), and ``cert_auth`` /
``cert_signing`` (certificates ending before their card: a renewal of their own; those
ending with the card are renewed with it, R-CRT-5).

Why the birthday test: a card on the national rule expires on a birthday (R-VAL-2; a 29
February birth on 28 February or 1 March, R-VAL-5). A foreign resident's card that ends on
another day ends with the stay. A stay that happens to end on a birthday is counted with the
national rule; the notice job's exact rule (apps.notices.job.classify_foreign) needs each
card's dates in Python, which a look at every card of 24 months must not do.

``reports_counterminutes``: the counter time of a step, measured over the last
COUNTER_MEASURE_DAYS days as the median gap between two consecutive steps (a receipt, a
handover) of one clerk on one day, gaps over COUNTER_GAP_MAX_MINUTES being breaks: a clerk
serving a queue starts the next resident when the last one is done. Per office and for the
whole city (``scope`` 'city').
"""

from __future__ import annotations

from typing import Final

from django.conf import settings

from apps.reports.rules import COUNTER_GAP_MAX_MINUTES, COUNTER_MEASURE_DAYS, WAVE_MONTHS

_FIRST = f"date_trunc('month', now() AT TIME ZONE '{settings.TIME_ZONE}')::date"
_END = f"({_FIRST} + interval '{WAVE_MONTHS} months')::date"

WAVE_VIEW: Final = f"""
SELECT month, office_id, class, count(*)::integer AS n, now() AS computed_at
FROM (
    SELECT date_trunc('month', c.expires_on)::date AS month, c.office_id,
           CASE WHEN r.nationality = 'JP' THEN 'national'
                WHEN extract(month FROM c.expires_on) = extract(month FROM r.birth_date)
                     AND extract(day FROM c.expires_on) = extract(day FROM r.birth_date)
                  OR (extract(month FROM r.birth_date) = 2 AND extract(day FROM r.birth_date) = 29
                      AND ((extract(month FROM c.expires_on) = 2
                            AND extract(day FROM c.expires_on) = 28)
                           OR (extract(month FROM c.expires_on) = 3
                               AND extract(day FROM c.expires_on) = 1)))
                THEN 'foreign_national' ELSE 'stay' END AS class
    FROM cards_card c JOIN residents_resident r ON r.id = c.resident_id
    WHERE c.state IN ('active', 'suspended')
      AND c.expires_on >= {_FIRST} AND c.expires_on < {_END}
    UNION ALL
    SELECT date_trunc('month', x.expires_on)::date, k.office_id, 'cert_' || x.kind
    FROM certificates_certificate x
    JOIN cards_card k ON k.id = x.card_id
    WHERE x.state = 'active' AND k.state IN ('active', 'suspended')
      AND x.expires_on < k.expires_on
      AND x.expires_on >= {_FIRST} AND x.expires_on < {_END}
) due
GROUP BY month, office_id, class
"""

COUNTER_MINUTES_VIEW: Final = f"""
WITH steps AS (
    SELECT office_id, received_by_id AS clerk, received_at AS at, 'receive' AS step
    FROM applications_application
    WHERE received_at >= now() - interval '{COUNTER_MEASURE_DAYS} days'
    UNION ALL
    SELECT office_id, handed_over_by_id, handed_over_at, 'handover'
    FROM applications_application
    WHERE handed_over_at >= now() - interval '{COUNTER_MEASURE_DAYS} days'
), gaps AS (
    SELECT office_id, step, extract(epoch FROM at - lag(at) OVER (
        PARTITION BY clerk, (at AT TIME ZONE '{settings.TIME_ZONE}')::date ORDER BY at)) AS gap
    FROM steps
)
SELECT coalesce(office_id::text, 'city') AS scope, step,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) / 60 AS minutes,
       count(*)::integer AS samples, now() AS computed_at
FROM gaps
WHERE gap IS NOT NULL AND gap <= {COUNTER_GAP_MAX_MINUTES * 60}
GROUP BY GROUPING SETS ((office_id, step), (step))
"""


_TODAY = f"(date_trunc('day', now() AT TIME ZONE '{settings.TIME_ZONE}')::date)"
_NONE = "'00000000-0000-0000-0000-000000000000'::uuid"

ACTIVITY_VIEW: Final = f"""
SELECT 'receive' AS step, received_on AS day, office_id,
       coalesce(counter_id, {_NONE}) AS counter_id, received_by_id AS clerk_id, kind,
       -1 AS days, count(*)::integer AS n, {_TODAY} AS before_day
FROM applications_application
WHERE received_at < ({_TODAY}::timestamp AT TIME ZONE '{settings.TIME_ZONE}')
GROUP BY received_on, office_id, counter_id, received_by_id, kind
UNION ALL
SELECT 'handover', (handed_over_at AT TIME ZONE '{settings.TIME_ZONE}')::date, office_id,
       {_NONE}, {_NONE}, kind,
       (handed_over_at AT TIME ZONE '{settings.TIME_ZONE}')::date - received_on,
       count(*)::integer, {_TODAY}
FROM applications_application
WHERE state = 'handed_over'
  AND handed_over_at < ({_TODAY}::timestamp AT TIME ZONE '{settings.TIME_ZONE}')
GROUP BY 2, office_id, kind, 7
"""


def refresh() -> None:
    """Recompute both views, CONCURRENTLY (the pages keep reading the last result), through
    the owner's function (migration 0002): the application's role owns no view."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_refresh()")
        cursor.execute("SELECT reports_refresh_activity()")
