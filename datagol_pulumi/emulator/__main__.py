"""Command line: run the DataGOL emulator until SIGTERM/SIGINT.

Example: `python -m datagol_pulumi.emulator --port 0 --port-file .state/emulator.port --token t`
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from .server import Emulator, is_loopback_host

TOKEN_ENV = "DATAGOL_EMULATOR_TOKEN"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="datagol-emulator",
        description="Local emulator of the DataGOL extraction API (loopback only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="T",
        help=f"accepted API token (repeatable; also ${TOKEN_ENV}); none given = accept any",
    )
    parser.add_argument(
        "--job-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="how long an extraction job takes to finish (default 0: immediately)",
    )
    parser.add_argument(
        "--extraction",
        action="append",
        default=[],
        metavar="ID",
        help="an extraction id that exists, listed by Get Extractions for every element "
        "(repeatable); none given = every id exists and no element lists any",
    )
    parser.add_argument("--port-file", metavar="PATH", help="write the bound port to this file")
    parser.add_argument("--verbose", action="store_true", help="log one line per request")
    return parser


def _write_port_file(path: str, port: int) -> None:
    # Write then rename, so a reader polling for the file never sees it half written.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(f"{port}\n")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator; returns the exit code (0 after SIGTERM/SIGINT, 2 on bad arguments)."""
    args = _parser().parse_args(argv)
    if not is_loopback_host(args.host):
        print(
            f"datagol-emulator: refusing --host {args.host}: the emulator has no real "
            "authentication on its control API and must listen on loopback only "
            "(127.0.0.1, ::1 or localhost)",
            file=sys.stderr,
        )
        return 2
    if args.job_seconds < 0:
        print("datagol-emulator: --job-seconds must be >= 0", file=sys.stderr)
        return 2

    tokens = list(args.token)
    env_token = os.environ.get(TOKEN_ENV)
    if env_token:
        tokens.append(env_token)

    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            tokens=tokens or None,
            job_seconds=args.job_seconds,
            extractions=list(args.extraction) or None,
            verbose=args.verbose,
        ).start()
    except OSError as exc:
        print(f"datagol-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    wrote_port_file = False
    try:
        if args.port_file:
            try:
                _write_port_file(args.port_file, emulator.port)
            except OSError as exc:
                print(f"datagol-emulator: cannot write --port-file: {exc}", file=sys.stderr)
                return 1
            wrote_port_file = True
        print(f"DataGOL emulator listening on {emulator.url}", flush=True)
        # Waiting with a timeout keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        if wrote_port_file:
            # A stale port file would point the next reader at a dead (or foreign) server.
            try:
                os.remove(args.port_file)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
