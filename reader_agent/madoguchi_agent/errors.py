"""Exception types of the agent.

Each carries a short message for the clerk (Japanese first, English after) so the CLI can show
it as is. None of them ever carries a PIN or card data (R-PIN-3, R-MYN-2).
"""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error the agent reports to the clerk."""

    clerk_message = "エラーが発生しました / An error occurred"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.clerk_message)
        self.detail = detail

    def for_clerk(self) -> str:
        return self.clerk_message


# --- PC/SC -------------------------------------------------------------------------------------


class PcscError(AgentError):
    """Anything that stopped a card conversation; the agent loop catches these and goes on."""


class PcscUnavailable(PcscError):
    clerk_message = (
        "カードリーダーのサービス (pcscd / Smart Card サービス) が動いていません"
        " / The smart-card service is not running"
    )


class NoReader(PcscError):
    clerk_message = "カードリーダーが見つかりません / No card reader found"


class NoCard(PcscError):
    clerk_message = "カードが置かれていません / No card in the reader"


class CardRemoved(PcscError):
    clerk_message = (
        "読み取り中にカードが外されました。もう一度置いてください"
        " / The card was removed while reading; please insert it again"
    )


class CardError(PcscError):
    """The card answered a status word the agent did not expect."""

    clerk_message = (
        "カードを読み取れませんでした (マイナンバーカードではない可能性があります)"
        " / Could not read the card (it may not be a My Number card)"
    )

    def __init__(self, detail: str = "", sw: int | None = None) -> None:
        super().__init__(detail)
        self.sw = sw


class FileNotFoundOnCard(CardError):
    """`6A82`: the application or file does not exist on this card."""


class CardDataError(CardError):
    """The card's data did not parse (see parsers.ParseError for the cause)."""


# --- PINs --------------------------------------------------------------------------------------


class InvalidPinFormat(AgentError, ValueError):
    """Refused before sending, so a typo never spends one of the card's tries."""

    clerk_message = "暗証番号は数字4桁です / The PIN is 4 digits"


class WrongPin(AgentError):
    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN, {tries_left} tries left")
        self.tries_left = tries_left

    def for_clerk(self) -> str:
        if self.tries_left == 0:
            return (
                "暗証番号が違います。ロックされました。ロック解除はお住まいの市区町村の窓口で行います"
                " / Wrong PIN; the PIN is now locked (R-PIN-1)"
            )
        return (
            f"暗証番号が違います。あと {self.tries_left} 回間違えるとロックされます"
            f" / Wrong PIN; {self.tries_left} tries left"
        )


class PinBlocked(AgentError):
    clerk_message = (
        "暗証番号がロックされています。窓口でロック解除と暗証番号の再設定が必要です"
        " / The PIN is locked; lock release is needed at the counter (R-PIN-1)"
    )


# --- server ------------------------------------------------------------------------------------


class NotEnrolled(AgentError):
    clerk_message = (
        "この端末は登録されていません。先に `madoguchi-agent enroll` を実行してください"
        " / This PC is not enrolled; run `madoguchi-agent enroll` first"
    )


class ServerUnavailable(AgentError):
    clerk_message = (
        "サーバーに接続できません。もう一度お試しください / Cannot reach the server; please retry"
    )


class ServerRejected(AgentError):
    clerk_message = "サーバーが受け付けませんでした / The server refused the data"

    def __init__(self, detail: str = "", status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
