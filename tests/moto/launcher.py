#!/usr/bin/env python3
"""Runs moto's server on 127.0.0.1 with LocalOps' patches (see localops_moto.py).

    python tests/moto/launcher.py --port N      # 0 = pick a free port

Prints exactly one line on stdout once serving: `ready http://127.0.0.1:PORT`. Stops on SIGTERM,
SIGINT, or when stdin reaches end of file (so a test harness that dies never leaks a server);
pass --ignore-stdin to run it by hand in the background.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument(
        "--ignore-stdin", action="store_true", help="do not stop when stdin closes"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    # Before moto is imported: AWS managed policies (AdministratorAccess) must exist, and no
    # real credentials or endpoints may leak in.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.pop("AWS_PROFILE", None)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import localops_moto

    localops_moto.apply()

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if not args.ignore_stdin:

        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read1(4096):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    print(f"ready http://127.0.0.1:{port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
