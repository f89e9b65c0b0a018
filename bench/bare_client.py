"""The server's share of the app's figures: the app's account-screen calls made by bare botocore.

`python -m bench.bare_client --out FILE` (endpoint and key in the usual AWS_* environment
variables; BENCH_T0 as for `bench.driver`). No app, no UI, no parsing beyond botocore's own: one
thread per chain of calls the app makes when it opens the account screen, all started at once
as the app starts them, with the same page sizes (the package's own constants):

- buckets: ListBuckets, `FIRST_BUCKET_PAGE`, then `MAX_BUCKET_PAGE` per request;
- users: ListUsers, `FIRST_USER_PAGE`, then `IAM_MAX_PAGE` per request;
- policy counts: GetAccountAuthorizationDetails (users), `FIRST_USER_PAGE`, then `IAM_MAX_PAGE`;
- the credential report: GetCredentialReport (GenerateCredentialReport first when there is none);
- the identity: GetCallerIdentity.

A page of `n` items is asked for, answered and parsed here as in the app, so the marks are what
the server (and botocore) make any client wait at this latency: the measured floor beside the
round-trip floor, which counts no time for the server to answer. Marks, as JSON in FILE: when
each chain's first page and last page came back (seconds since process start).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any

_T0 = float(os.environ.get("BENCH_T0") or time.time())


def since_start() -> float:
    return time.time() - _T0


def _chains(session: Any, marks: dict[str, float]) -> dict[str, Any]:
    from s3cred_tui.core.inventory import FIRST_BUCKET_PAGE, FIRST_USER_PAGE, IAM_MAX_PAGE
    from s3cred_tui.core.inventory.buckets import MAX_BUCKET_PAGE

    def client(service: str) -> Any:
        return session.create_client(service, region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))

    def pages(what: str, call: Any, items: str, token_in: str, token_out: str, first: dict, then: dict) -> None:
        asked, count = dict(first), 0
        while True:
            answer = call(**asked)
            count += len(answer.get(items) or [])
            marks.setdefault(f"{what}_first", since_start())
            token = answer.get(token_out) if token_out != "Marker" or answer.get("IsTruncated") else None
            if not token:
                break
            asked = {**then, token_in: token}
        marks[f"{what}_done"] = since_start()
        marks[f"{what}_count"] = count

    def buckets() -> None:
        s3 = client("s3")
        first, then = {"MaxBuckets": FIRST_BUCKET_PAGE}, {"MaxBuckets": MAX_BUCKET_PAGE}
        pages("buckets", s3.list_buckets, "Buckets", "ContinuationToken", "ContinuationToken", first, then)

    def users() -> None:
        iam = client("iam")
        first, then = {"MaxItems": FIRST_USER_PAGE}, {"MaxItems": IAM_MAX_PAGE}
        pages("users", iam.list_users, "Users", "Marker", "Marker", first, then)

    def policy_counts() -> None:
        iam = client("iam")
        first, then = {"MaxItems": FIRST_USER_PAGE, "Filter": ["User"]}, {"MaxItems": IAM_MAX_PAGE, "Filter": ["User"]}
        pages("policies", iam.get_account_authorization_details, "UserDetailList", "Marker", "Marker", first, then)

    def report() -> None:
        iam = client("iam")
        for _attempt in range(100):
            try:
                iam.get_credential_report()
                break
            except iam.exceptions.CredentialReportNotPresentException:
                iam.generate_credential_report()
            except iam.exceptions.CredentialReportNotReadyException:
                time.sleep(0.1)
        marks["report_done"] = since_start()

    def identity() -> None:
        client("sts").get_caller_identity()
        marks["identity_done"] = since_start()

    return {"buckets": buckets, "users": users, "policies": policy_counts, "report": report, "identity": identity}


def measure() -> dict[str, Any]:
    import botocore.session

    marks: dict[str, float] = {}
    session = botocore.session.get_session()
    threads = [threading.Thread(target=chain, name=name) for name, chain in _chains(session, marks).items()]
    marks["started"] = since_start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [marks[name] for name in ("buckets_done", "users_done", "policies_done", "report_done", "identity_done")]
    return {
        "marks": {name: round(value, 3) for name, value in marks.items()},
        "first_page_s": round(max(marks["buckets_first"], marks["users_first"]), 3),
        "lists_complete_s": round(max(marks["buckets_done"], marks["users_done"]), 3),
        # The first users with their policy counts and keys: the first pages of both, and the report.
        "first_screen_filled_s": round(max(marks["users_first"], marks["policies_first"], marks["report_done"]), 3),
        "details_complete_s": round(max(done), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_client")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    result = measure()
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
