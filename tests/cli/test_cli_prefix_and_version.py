"""Issue 12's CLI items: `--version`, `list-bucket --prefix` meaning what `policy`/`create` grant,
and the dry run naming no parameter `sts:GetCallerIdentity` does not take."""

from __future__ import annotations

import json

from s3cred_tui import __version__
from tests.cli.test_cli import BUCKET, account, run  # noqa: F401 - the fixture


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"s3cred-tui {__version__}"


def test_list_bucket_prefix_is_a_folder_as_policy_and_create_mean_it(account, capsys):  # noqa: F811
    code, out, _ = run(capsys, "list-bucket", BUCKET, "--prefix", "reports", "--endpoint-url", account.endpoint_url)
    assert code == 0
    keys = [record["Key"] for record in json.loads(out)]
    assert keys == ["reports/2024/q1/a.csv", "reports/2025/b.csv"], "reports-private/ is not under reports/"


def test_list_bucket_refuses_a_leading_slash_in_one_line(account, capsys):  # noqa: F811
    code, _, err = run(capsys, "list-bucket", BUCKET, "--prefix", "/reports", "--endpoint-url", account.endpoint_url)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "start with /" in err


def test_the_dry_run_shows_get_caller_identity_without_parameters(account, capsys):  # noqa: F811
    code, out, _ = run(
        capsys, "create", BUCKET, "--read-only", "--dry-run", "--endpoint-url", account.endpoint_url
    )
    assert code == 0, out
    line = next(line for line in out.splitlines() if "sts:GetCallerIdentity" in line)
    assert line.strip() == "sts:GetCallerIdentity()  (signed with the new key)"
