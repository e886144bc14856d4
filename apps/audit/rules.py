"""What an access-log row says, as a sentence a person reads (no database, no clock).

The row keeps its detail as data (which fields a search used, how many residents it listed,
which read was shown); the screen says it in Japanese: ``{"fields": ["kana"], "matched": 11}``
is "氏名(カナ)で検索し、11件が該当しました。", not ``fields=['kana'] matched=11``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FIELD_LABELS = {
    "kana": "氏名(カナ)",
    "birth_date": "生年月日",
    "reference_code": "整理番号",
    "my_number": "個人番号",
}
EXPORT_FORMATS = {"pdf": "PDF", "csv": "CSV", "xlsx": "Excel"}
MATCH_LABELS = {
    "certificate": "利用者証明用電子証明書のシリアル番号で照合",
    "my_number": "個人番号で照合",
    "none": "該当する住民なし",
    "conflict": "証明書と券面事項が別の住民を指す",
}


def _found(count: Any, *, more: bool = False) -> str:
    if not count:
        return "該当はありませんでした。"
    suffix = "（一覧に収まらない分があります）" if more else ""
    return f"{int(count):,}件が該当しました{suffix}。"


def describe_access(action: str, detail: Mapping[str, Any] | None) -> str:
    """The detail of one access-log row of ``action`` as a sentence ("" when there is none)."""
    detail = detail or {}
    if action in ("search", "search_my_number"):
        fields = detail.get("fields") or (["my_number"] if action == "search_my_number" else [])
        used = "・".join(FIELD_LABELS.get(str(field), str(field)) for field in fields)
        how = f"{used}で検索し、" if used else "検索し、"
        return how + _found(detail.get("matched"), more=bool(detail.get("more")))
    if action == "export":
        what = "通知書の束" if "batch" in detail else "データ"
        fmt = EXPORT_FORMATS.get(str(detail.get("format", "")), str(detail.get("format", "")))
        letters = detail.get("letters")
        count = f"（{int(letters):,}通）" if letters is not None else ""
        return f"{what}{count}を{fmt}で出力しました。" if fmt else f"{what}{count}を出力しました。"
    if action == "card_read":
        match = MATCH_LABELS.get(str(detail.get("match", "")), "")
        return (
            f"窓口でカードを読み取り、画面に表示しました（{match}）。"
            if match
            else ("窓口でカードを読み取り、画面に表示しました。")
        )
    if action == "handover_blocked":
        # Which side of the mismatch this row is about: the card read, or the one bound.
        side = detail.get("role")
        if side == "read":
            return (
                "交付の照合で、この方のカードが別の申請の窓口で読み取られました（交付を差し止め）。"
            )
        return "交付の照合で、登録されたカードと別のカードが読み取られたため交付を差し止めました。"
    if action == "view_custody":
        return "カードの保管記録（保管場所・移動の履歴）を閲覧しました。"
    if not detail:
        return ""
    # A detail this module does not know yet: still words, not key=value.
    return "、".join(f"{key}：{value}" for key, value in detail.items())
