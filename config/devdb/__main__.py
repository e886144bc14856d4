"""``python -m config.devdb start|stop|status``: the embedded PostgreSQL by hand."""

from __future__ import annotations

import sys

from config.devdb import EmbeddedDatabaseError, data_dir, ensure_server, stop


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    try:
        if command == "start":
            print(ensure_server())
        elif command == "stop":
            print("embedded PostgreSQL stopped" if stop() else "embedded PostgreSQL is not running")
        elif command == "status":
            print(data_dir())
        else:
            print("usage: python -m config.devdb start|stop|status", file=sys.stderr)
            return 2
    except EmbeddedDatabaseError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
