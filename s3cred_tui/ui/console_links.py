"""Where a resource lives in the AWS console, and its ARN, for `o` (open) and `Y` (copy the ARN).

Pure: URLs and ARNs from names, no AWS call and no Textual. An endpoint that is not AWS (the
demo, MinIO, LocalStack) has no console: `console_url` then gives None and the app says so.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

IAM_CONSOLE = "https://console.aws.amazon.com/iam/home"
S3_CONSOLE = "https://s3.console.aws.amazon.com/s3/buckets"


def bucket_url(bucket: str, region: str | None = None, prefix: str = "") -> str:
    query = {key: value for key, value in (("region", region or ""), ("prefix", prefix)) if value}
    return f"{S3_CONSOLE}/{quote(bucket)}" + (f"?{urlencode(query)}" if query else "")


def user_url(name: str) -> str:
    return f"{IAM_CONSOLE}#/users/details/{quote(name)}"


def bucket_arn(bucket: str, prefix: str = "") -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{prefix}*" if prefix else "")


def user_arn(account: str | None, name: str, path: str = "/") -> str | None:
    """The user's ARN, or None while the account id is not known yet."""
    if not account:
        return None
    path = path if path.startswith("/") and path.endswith("/") else "/"
    return f"arn:aws:iam::{account}:user{path}{name}"
