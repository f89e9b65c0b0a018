"""The benchmark's moto server, in a process of its own: `python -m bench.server --scale small`.

Its own process, so its request handling never shares a GIL with the client being timed.
It seeds the account straight into moto's backends, then prints one JSON line on stdout
(endpoint, counts and the administrator key: the pipe to the parent, never a file) and
serves until its stdin closes. With `--aws-paging`, moto pages like AWS (`bench.aws_like`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench.seed import SCALES, Scale, seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    parser.add_argument("--buckets", type=int, help="override the scale's bucket count")
    parser.add_argument("--users", type=int, help="override the scale's user count")
    parser.add_argument("--objects", type=int, help="override the scale's key count in the big bucket")
    parser.add_argument("--port", type=int, default=0, help="loopback port (0: any free one)")
    parser.add_argument(
        "--aws-paging", action="store_true", help="page ListUsers, GAAD and ListBuckets like AWS (bench/aws_like.py)"
    )
    args = parser.parse_args(argv)
    base = SCALES[args.scale]
    scale = Scale(
        base.name,
        buckets=base.buckets if args.buckets is None else args.buckets,
        users=base.users if args.users is None else args.users,
        objects=base.objects if args.objects is None else args.objects,
    )

    from s3cred_tui.demo.server import MotoServer

    if args.aws_paging:
        from bench.aws_like import install

        install()
    started = time.perf_counter()
    server = MotoServer(host="127.0.0.1", port=args.port).start()
    try:
        server.reset()
        seeded = seed(scale)
        ready = {
            "endpoint_url": server.endpoint_url,
            "seed_seconds": round(time.perf_counter() - started, 3),
            "aws_paging": args.aws_paging,
            **seeded.public(),
            "secret_access_key": seeded.secret_access_key,
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        # Serve until the parent closes our stdin (or goes away).
        sys.stdin.read()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
