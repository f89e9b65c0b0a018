"""Commands that make no AWS call start without botocore, and the parser imports no command's module."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import botocore.exceptions
import pytest

from s3cred_tui.cli import main
from s3cred_tui.core.aws_checks import PAID_CHECK_PRICE_USD

# Modules of commands other than the one run: the parser must leave them unimported.
COMMAND_MODULES = (
    "s3cred_tui.cli.create",
    "s3cred_tui.cli.lifecycle",
    "s3cred_tui.cli.listing",
    "s3cred_tui.cli.probe",
    "s3cred_tui.cli.simulate",
    "s3cred_tui.cli.demo_server",
)


def _modules_loaded_after(argv: list[str], state_dir: str) -> tuple[int, str, set[str]]:
    """Run the CLI's `main` in a fresh interpreter; its status, stdout and the modules loaded at exit."""
    code = (
        "import json, sys\n"
        "from s3cred_tui.cli import main\n"
        f"status = main({argv!r})\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        # A state directory of its own: an unfinished run's journal elsewhere must not change what is read.
        env={**_clean_env(), "S3CRED_TUI_STATE_DIR": state_dir},
    )
    modules = set(json.loads(result.stderr.splitlines()[-1]))
    return result.returncode, result.stdout, modules


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["policy", "start-up-data", "--read-only"],
        ["policy", "start-up-data", "--write-only", "--prefix", "reports"],
    ],
)
def test_commands_without_aws_calls_never_import_botocore(argv, tmp_path):
    status, out, modules = _modules_loaded_after(argv, str(tmp_path))
    assert status == 0
    assert out
    assert "botocore" not in modules
    assert "boto3" not in modules


def test_help_imports_no_command_module(tmp_path):
    status, out, modules = _modules_loaded_after(["--help"], str(tmp_path))
    assert status == 0
    assert "list-buckets" in out
    assert not modules & set(COMMAND_MODULES)


def test_help_imports_no_model_of_the_core(tmp_path):
    """The top-level help needs no request or credentials model (nor `dataclasses`, ~12 ms); the
    choices they own are read when a command's help or a value needs them."""
    status, out, modules = _modules_loaded_after(["--help"], str(tmp_path))
    assert status == 0
    assert not modules & {"s3cred_tui.core.request", "s3cred_tui.core.credentials", "dataclasses"}
    status, out, modules = _modules_loaded_after(["create", "--help"], str(tmp_path))
    assert status == 0
    assert "json, ini, env, credential-process" in " ".join(out.split())


def test_policy_imports_only_its_own_command_module(tmp_path):
    status, out, modules = _modules_loaded_after(["policy", "start-up-data", "--read-only"], str(tmp_path))
    assert status == 0
    assert json.loads(out)["Version"] == "2012-10-17"
    assert "s3cred_tui.cli.create" in modules
    assert not modules & {"s3cred_tui.cli.lifecycle", "s3cred_tui.cli.listing", "s3cred_tui.cli.simulate"}


def test_paid_checks_help_states_the_price(capsys):
    assert main(["policy", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"about ${PAID_CHECK_PRICE_USD:.3f})" in help_text


def test_an_aws_error_from_a_command_is_one_line_and_status_1(monkeypatch, capsys):
    def refused(ctx, args):
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not for you"}}, "GetCallerIdentity"
        )

    monkeypatch.setattr("s3cred_tui.cli.parser.cmd_whoami", refused)
    assert main(["whoami"]) == 1
    err = capsys.readouterr().err
    assert err == "error: Access denied (GetCallerIdentity): not for you\n"


def test_every_command_of_the_parser_resolves_to_its_function():
    """Commands are named as text until they run: each name must exist in its module."""
    from s3cred_tui.cli import parser

    commands = parser.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in commands.items():
        function = sub.get_default("func")
        assert callable(getattr(parser, function.name)), name
