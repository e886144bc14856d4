"""`madoguchi-agent` command line: enroll, run, read-text, status, simulate."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from . import __version__, pcsc
from .agent import Agent, describe_read, read_text_and_send
from .client import ServerClient
from .device import AgentConfig, enroll, load_key, resolve_config_dir
from .errors import AgentError, NotEnrolled, PinBlocked, ServerRejected, ServerUnavailable, WrongPin
from .httpsig import fingerprint, public_key_raw
from .outbox import OUTBOX_FILE, Outbox
from .signing import RequestSigner

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_PIN = 3
EXIT_NOT_SENT = 4
EXIT_NOT_ENROLLED = 5

PIN_PROMPT = "券面事項入力補助用暗証番号 (数字4桁) / input-assist PIN (4 digits): "


def _out(message: str) -> None:
    print(message, flush=True)


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _config_dir(args: argparse.Namespace) -> Path:
    return resolve_config_dir(args.config_dir)


def _client(config_dir: Path) -> tuple[ServerClient, AgentConfig]:
    config = AgentConfig.load(config_dir)
    if not config.server:
        raise NotEnrolled("no server configured")
    signer = RequestSigner(load_key(config_dir))
    return ServerClient(config.server, signer, ca_bundle=config.ca_bundle), config


# --- enroll -------------------------------------------------------------------------------------


def cmd_enroll(args: argparse.Namespace) -> int:
    config_dir = _config_dir(args)
    try:
        result = enroll(
            server=args.server,
            name=args.name,
            config_dir=config_dir,
            new_key=args.new_key,
            ca_bundle=args.ca_bundle,
        )
    except ValueError as exc:
        _err(f"入力が正しくありません / invalid input: {exc}")
        return EXIT_ERROR
    except AgentError as exc:
        _err(f"{exc.for_clerk()} ({exc.detail})")
        return EXIT_ERROR
    _out(f"鍵 / key: {'新規作成 / created' if result.key_created else '既存 / existing'}")
    _out(f"指紋 / fingerprint: {result.fingerprint}")
    _out(f"サーバー応答 / server answered: HTTP {result.status_code}")
    _out(
        "管理者が管理画面でこの指紋を確認して承認すると使えるようになります"
        " / An administrator must approve this fingerprint before reads are accepted"
    )
    return EXIT_OK


# --- run ----------------------------------------------------------------------------------------


def _install_stop_handlers(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            # Second Ctrl-C: also break out of a blocking prompt (getpass).
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _prompt_pin() -> str | None:
    # The PIN goes from getpass straight to the VERIFY command: no variable outlives the read.
    pin = getpass.getpass("(空Enterでスキップ / empty to skip) " + PIN_PROMPT)
    return pin or None


def cmd_run(args: argparse.Namespace) -> int:
    config_dir = _config_dir(args)
    try:
        client, config = _client(config_dir)
    except NotEnrolled as exc:
        _err(exc.for_clerk())
        return EXIT_NOT_ENROLLED
    stop = threading.Event()
    _install_stop_handlers(stop)
    with Outbox.in_dir(config_dir) as outbox:
        agent = Agent(
            client=client,
            outbox=outbox,
            reader=args.reader,
            heartbeat_interval=args.heartbeat,
            text_pin_prompt=_prompt_pin if args.text_pin_prompt else None,
            stop=stop,
        )
        _out(
            f"madoguchi-agent {__version__}: {config.server} に送信します。Ctrl-C で終了"
            f" / pushing to {config.server}; Ctrl-C to stop"
        )
        try:
            agent.run()
        except KeyboardInterrupt:
            pass
        finally:
            client.close()
    return EXIT_OK


# --- read-text ----------------------------------------------------------------------------------


def cmd_read_text(args: argparse.Namespace) -> int:
    config_dir = _config_dir(args)
    try:
        client, _config = _client(config_dir)
    except NotEnrolled as exc:
        _err(exc.for_clerk())
        return EXIT_NOT_ENROLLED
    try:
        with pcsc.PcscContext() as ctx, Outbox.in_dir(config_dir) as outbox:
            reader, warning = pcsc.pick_reader(ctx.list_readers(), args.reader)
            if warning:
                _err(warning)

            def get_pin() -> str | None:
                return getpass.getpass(PIN_PROMPT) or None

            try:
                sent = read_text_and_send(
                    ctx, reader, get_pin=get_pin, client=client, outbox=outbox
                )
            finally:
                # A wrong-PIN attempt queued a card read with the new counter: push it now.
                outbox.flush(client.deliver)
    except (WrongPin, PinBlocked) as exc:
        _err(exc.for_clerk())
        return EXIT_PIN
    except (ServerUnavailable, ServerRejected) as exc:
        _err(
            f"{exc.for_clerk()}。券面事項は保存していません。もう一度読み取ってください"
            " / Nothing was stored; please read the card again"
        )
        return EXIT_NOT_SENT
    except AgentError as exc:
        _err(exc.for_clerk())
        return EXIT_ERROR
    finally:
        client.close()
    if sent is None:
        _out("スキップしました / skipped")
        return EXIT_OK
    _read_id, card = sent
    _out("券面事項を送信しました / Card text sent")
    _out(describe_read(card))
    return EXIT_OK


# --- status -------------------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    config_dir = _config_dir(args)
    config = AgentConfig.load(config_dir)
    _out(f"設定フォルダ / config dir: {config_dir}")
    _out(f"サーバー / server: {config.server or '(未登録 / not enrolled)'}")
    _out(f"端末名 / device name: {config.device_name or '-'}")
    try:
        fp = fingerprint(public_key_raw(load_key(config_dir)))
    except NotEnrolled:
        fp = "(鍵なし / no key)"
    _out(f"鍵の指紋 / key fingerprint: {fp}")
    if (config_dir / OUTBOX_FILE).exists():  # status must not create files
        with Outbox.in_dir(config_dir) as outbox:
            _out(
                f"未送信 / outbox: {outbox.count('read')} reads, {outbox.count('heartbeat')}"
                f" heartbeats (rejected: {outbox.rejected_count()})"
            )
            _out(f"最終送信 / last push: {outbox.last_push_at or '-'}")
    else:
        _out("未送信 / outbox: 0 reads, 0 heartbeats (rejected: 0)")
        _out("最終送信 / last push: -")
    try:
        with pcsc.PcscContext() as ctx:
            readers = ctx.list_readers()
        _out("リーダー / readers: " + (", ".join(readers) if readers else "(なし / none)"))
        if any(r.startswith("Virtual PCD") for r in readers):
            _out(
                "警告: vsmartcard-vpcd が入っています。窓口PCでは削除してください"
                " / WARNING: vsmartcard-vpcd is installed; remove it from counter PCs"
            )
    except AgentError as exc:
        _out(f"リーダー / readers: {exc.for_clerk()}")
    return EXIT_OK


# --- simulate -----------------------------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulator import PERSONAS, SimulatedCard, build_card

    if args.persona not in PERSONAS:
        _err(f"persona must be one of {', '.join(PERSONAS)}")
        return EXIT_ERROR
    try:
        model = build_card(
            args.persona,
            auth_serial=int(args.auth_serial, 16) if args.auth_serial else None,
            my_number=args.my_number,
            name=args.name,
            address=args.address,
            birth_date=args.birth_date,
            sex=args.sex,
            pin=args.pin,
            signing_password=args.signing_password,
        )
    except ValueError as exc:
        _err(f"invalid card data: {exc}")
        return EXIT_ERROR
    _err(
        "*** TEST ONLY: fictional My Number card for vsmartcard-vpcd. Never install"
        " vsmartcard-vpcd on a counter PC. ***"
    )
    card = SimulatedCard(model, host=args.host, port=args.port, inserted=not args.removed)
    stop = threading.Event()
    _install_stop_handlers(stop)
    card.start()
    _out(
        f"persona={args.persona} auth_serial={model.data.auth_serial:x}"
        f" vpcd={args.host}:{args.port} inserted={card.inserted}"
    )
    if sys.stdin.isatty():
        _out("i = insert, r = remove, q = quit")

        def console() -> None:
            for line in sys.stdin:
                cmd = line.strip().lower()
                if cmd == "i":
                    card.insert()
                elif cmd == "r":
                    card.remove()
                elif cmd == "q":
                    break
                _out(f"inserted={card.inserted}")
            stop.set()

        threading.Thread(target=console, daemon=True).start()
    while not stop.wait(0.5):
        pass
    card.stop()
    return EXIT_OK


# --- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config-dir",
        help="key, config and outbox folder (default: $MADOGUCHI_AGENT_HOME or"
        " ~/.config/madoguchi-agent)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    # Options live on the subcommands only: argparse lets a subparser's default overwrite a
    # value given before the subcommand, which would silently drop --config-dir.
    parser = argparse.ArgumentParser(
        prog="madoguchi-agent", description="Madoguchi card reader agent"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("enroll", parents=[common], help="create the device key and register it")
    p.add_argument("--server", required=True, help="e.g. https://madoguchi.city.local")
    p.add_argument("--name", required=True, help="device name shown to the admin, e.g. 窓口3番")
    p.add_argument("--new-key", action="store_true", help="replace an existing device key")
    p.add_argument("--ca-bundle", help="PEM file of the CA that signed the server's certificate")
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("run", parents=[common], help="watch the reader and push reads")
    p.add_argument("--reader", help="exact reader name (default: the first one, with a warning)")
    p.add_argument("--heartbeat", type=float, default=30.0, help="seconds between heartbeats")
    p.add_argument(
        "--text-pin-prompt",
        action="store_true",
        help="after each card read, ask for the input-assist PIN here and read the card text",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("read-text", parents=[common], help="read the card text with the PIN")
    p.add_argument("--reader", help="exact reader name")
    p.set_defaults(func=cmd_read_text)

    p = sub.add_parser("status", parents=[common], help="key, server, outbox, readers")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "simulate", parents=[common], help="TEST ONLY: a fictional card for vsmartcard-vpcd"
    )
    p.add_argument(
        "--persona", default="ordinary", help="ordinary, locked_auth, expired_cert, child"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=35963, help="vpcd port (35963 = Virtual PCD 00 00)")
    p.add_argument("--auth-serial", help="AUTH certificate serial, hex")
    p.add_argument("--my-number", help="12 digits passing the check digit")
    p.add_argument("--name", help="family and given name separated by U+3000")
    p.add_argument("--address")
    p.add_argument("--birth-date", help="YYYY-MM-DD")
    p.add_argument("--sex", help="ISO 5218: 1, 2 or 9")
    p.add_argument("--pin", help="the three 4-digit PINs (default 1234)")
    p.add_argument("--signing-password", help="SIGNING password (default ABC123)")
    p.add_argument("--removed", action="store_true", help="start with the card out of the reader")
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs each request URL at INFO; harmless but noisy on the clerk's console.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
