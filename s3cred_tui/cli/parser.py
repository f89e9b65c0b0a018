"""The command line's grammar: every command, its options and the function that runs it."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from s3cred_tui import __version__
from s3cred_tui.lazy import attribute_getter
from s3cred_tui.cli.common import PROBE_SECRET_ENV, PROBE_TOKEN_ENV, PROG, UsageError

# The module of each command's function, imported only when that command runs: importing every
# command's module (and what each imports) would cost `--help` and `policy` more than they do.
_COMMAND_MODULES = {
    "cmd_whoami": "s3cred_tui.cli.listing",
    "cmd_list_buckets": "s3cred_tui.cli.listing",
    "cmd_list_bucket": "s3cred_tui.cli.listing",
    "cmd_list_iam_users": "s3cred_tui.cli.listing",
    "cmd_list_user_policies": "s3cred_tui.cli.listing",
    "cmd_list_roles": "s3cred_tui.cli.lifecycle",
    "cmd_made": "s3cred_tui.cli.lifecycle",
    "cmd_rotate_key": "s3cred_tui.cli.lifecycle",
    "cmd_cleanup": "s3cred_tui.cli.lifecycle",
    "cmd_delete_user": "s3cred_tui.cli.lifecycle",
    "cmd_policy": "s3cred_tui.cli.create",
    "cmd_create": "s3cred_tui.cli.create",
    "cmd_revoke_grant": "s3cred_tui.cli.create",
    "cmd_recover": "s3cred_tui.cli.recover",
    "cmd_probe": "s3cred_tui.cli.probe",
    "cmd_simulate": "s3cred_tui.cli.simulate",
    "cmd_demo_server": "s3cred_tui.cli.demo_server",
}


# `parser.cmd_policy` and the other command functions, imported on first use.
__getattr__ = attribute_getter(_COMMAND_MODULES, __name__)


class _LaterChoices:
    """An option's choices, read from the module that owns them only when argparse looks at them
    (that command's help, or a value to check): the top-level help imports neither module (nor
    `dataclasses`, which both import). Options using it name a `metavar`: without one, argparse
    lists the choices as the option is added."""

    def __init__(self, module: str, read: Callable[[Any], list[str]]) -> None:
        self._module, self._read = module, read

    def _choices(self) -> list[str]:
        return self._read(importlib.import_module(self._module))

    def __iter__(self) -> Iterator[str]:
        return iter(self._choices())

    def __contains__(self, value: object) -> bool:
        return value in self._choices()

    def __len__(self) -> int:
        return len(self._choices())


CREDENTIAL_FORMATS = _LaterChoices("s3cred_tui.core.credentials", lambda module: list(module.FORMATS))
CREDENTIAL_KINDS = _LaterChoices("s3cred_tui.core.request", lambda module: [kind.value for kind in module.CredentialKind])


class _Command:
    """A command's function, looked up (and its module imported) only when the command runs.

    The lookup goes through this module's attributes, so a function patched onto the parser
    module (as tests do) is the one that runs.
    """

    def __init__(self, name: str):
        self.name = name

    def __call__(self, ctx: Any, args: argparse.Namespace) -> int:
        return getattr(sys.modules[__name__], self.name)(ctx, args)


class _PaidCheckPrice:
    """Access Analyzer's price per paid check, read from core.aws_checks only when help is printed
    (that module imports botocore)."""

    def __str__(self) -> str:
        from s3cred_tui.core.aws_checks import PAID_CHECK_PRICE_USD

        return f"{PAID_CHECK_PRICE_USD:.3f}"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _account_options(suppress: bool) -> argparse.ArgumentParser:
    """The options that choose the account, for the top level and for every command.

    On commands the defaults are suppressed so that `--profile x whoami` is not reset by
    the command's own (absent) `--profile`.
    """
    default = argparse.SUPPRESS if suppress else None
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("account")
    group.add_argument("--profile", default=default, help="AWS profile to use (default: AWS_PROFILE or the default chain)")
    group.add_argument("--region", default=default, help="AWS region for API calls (default: from the profile, else us-east-1)")
    group.add_argument(
        "--endpoint-url",
        default=default,
        help="S3/IAM/STS endpoint, e.g. a local emulator (AWS_ENDPOINT_URL also works)",
    )
    group.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="run against a built-in demo account (an in-process moto server) for the duration of the command",
    )
    return parent


def _listing_options(parser: argparse.ArgumentParser) -> None:
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--nl", action="store_true", help="one JSON object per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    fmt.add_argument("--tsv", action="store_true", help="tab-separated values with a header row")
    parser.add_argument("--page-size", type=_positive_int, default=None, help="records per AWS request")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _policy_options(parser: argparse.ArgumentParser, *, custom: bool) -> None:
    parser.add_argument("buckets", nargs="+", metavar="BUCKET", help="bucket name(s)")
    access = parser.add_mutually_exclusive_group()
    access.add_argument("--read-only", action="store_true", help="read and list only")
    access.add_argument("--write-only", action="store_true", help="upload only (no reading, no listing)")
    if custom:
        access.add_argument(
            "--policy",
            dest="policy_file",
            metavar="FILE_OR_JSON",
            help="use this policy document as-is: a file, '-' for stdin, or the JSON itself ('{...}')",
        )
        parser.add_argument(
            "--allow-broad",
            action="store_true",
            help="accept a --policy that grants more than the named buckets (actions outside S3, IAM/STS, "
            "* or s3:* on *, NotAction/NotResource, a Principal, other buckets); refused without it",
        )
    parser.add_argument(
        "--prefix",
        action="append",
        metavar="PREFIX",
        help="limit to keys under this prefix ('reports' means 'reports/'); repeat for several prefixes",
    )
    parser.add_argument(
        "--key",
        dest="keys",
        action="append",
        metavar="KEY",
        help="grant exactly this object key ('*' and '?' are ordinary characters); repeat for several",
    )
    parser.add_argument("--list-keys", action="store_true", help="with --key: also allow listing exactly those keys")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--literal-prefix", action="store_true", help="'*' and '?' in --prefix are ordinary characters")
    mode.add_argument("--prefix-pattern", action="store_true", help="'*' and '?' in --prefix are IAM wildcards")
    parser.add_argument(
        "--extra-statements", action="append", metavar="FILE", help="JSON file of extra policy statements to add"
    )
    parser.add_argument("--statement", action="append", metavar="JSON", help="an extra policy statement as JSON")


def _aws_check_options(parser: argparse.ArgumentParser, *, paid: bool) -> None:
    """`--aws-checks` (free: IAM's policy simulator and Access Analyzer's ValidatePolicy) and, where a
    level can be proven, `--aws-paid-checks` (Access Analyzer's charged checks, with their cost)."""
    parser.add_argument(
        "--aws-checks",
        action="store_true",
        help="also ask AWS (free): IAM's policy simulator beside the offline evaluator, request by request, and "
        "Access Analyzer's ValidatePolicy findings; never changes the exit status",
    )
    if paid:
        paid_checks = parser.add_argument(
            "--aws-paid-checks",
            action="store_true",
            help="with --aws-checks: also prove the level with Access Analyzer's CheckAccessNotGranted / "
            "CheckNoNewAccess, which AWS charges per call (one call, about $%(paid_check_price)s)",
        )
        # argparse fills %(name)s from the action's attributes when (and only when) it prints help.
        paid_checks.paid_check_price = _PaidCheckPrice()  # type: ignore[attr-defined]


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Least-privilege AWS credentials for S3. Without a command, starts the full-screen app.",
        parents=[_account_options(suppress=False)],
    )
    # A separate dest: a command's own --read-only (credentials that only read) must never be
    # confused with, or silently reset, the app's read-only mode.
    parser.add_argument(
        "--read-only", dest="app_read_only", action="store_true", help="app only: browse, never change anything"
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    account = _account_options(suppress=True)

    def command(name: str, function: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[account], help=help_text, description=help_text)
        sub.set_defaults(func=_Command(function))
        return sub

    command("whoami", "cmd_whoami", "Show the identity behind the current credentials")

    sub = command("list-buckets", "cmd_list_buckets", "List buckets")
    sub.add_argument(
        "--details", action="store_true", help="also look up each bucket's region, versioning and public access block"
    )
    _listing_options(sub)

    sub = command("list-bucket", "cmd_list_bucket", "List every object in a bucket (recursively)")
    sub.add_argument("bucket", metavar="BUCKET")
    sub.add_argument("--prefix", default="", help="only keys starting with this text")
    _listing_options(sub)

    sub = command("list-users", "cmd_list_iam_users", "List IAM users")
    _listing_options(sub)

    sub = command("list-user-policies", "cmd_list_user_policies", "Show the policies of IAM users (all users if none named)")
    sub.add_argument("users", nargs="*", metavar="USER")
    _listing_options(sub)

    sub = command("list-roles", "cmd_list_roles", "List IAM roles (all roles if none named)")
    sub.add_argument("roles", nargs="*", metavar="ROLE")
    sub.add_argument(
        "--details", action="store_true", help="also show each role's inline and attached policies (documents included)"
    )
    _listing_options(sub)

    sub = command("made", "cmd_made", "Show every user, role and bucket s3cred-tui made, what each can reach, key ages")
    sub.add_argument("--json", action="store_true", help="print it as JSON")

    sub = command(
        "rotate-key",
        "cmd_rotate_key",
        "Rotate a user's access key step by step: create the new one, show it once, check it, then (each after a yes) "
        "deactivate and delete the old one",
    )
    sub.epilog = (
        "Questions go to stderr and answers come from stdin (only y/yes is a yes; end of input is a no). "
        "Exit status: 0 when the rotation finished, 1 when it stopped or failed (the last line says which keys work), "
        "130 when interrupted."
    )
    sub.add_argument("user", metavar="USER")
    sub.add_argument("--key-id", metavar="ID", help="the key to replace (needed when the user has two)")
    sub.add_argument(
        "-f", "--format", choices=CREDENTIAL_FORMATS, metavar="FORMAT", default="json",
        help="how to print the new key: %(choices)s (default: %(default)s)",
    )  # fmt: skip

    sub = command(
        "cleanup",
        "cmd_cleanup",
        "Remove what s3cred-tui made (all of it, or the users, roles and buckets named), after showing the plan",
    )
    sub.epilog = (
        "Buckets that hold objects, the user you are signed in as and the role you are signed in through are kept, "
        "with the reason. A failure or Ctrl-C part-way puts back what it can of the item under way and says what "
        "could not be. Exit status: 0 when everything listed went, 1 otherwise, 130 when interrupted."
    )
    sub.add_argument("names", nargs="*", metavar="NAME", help="only these (a name, or 'user NAME', 'role NAME', 'bucket NAME')")
    sub.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    sub.add_argument("--yes", action="store_true", help="do not ask before removing")
    sub.add_argument("--json", action="store_true", help="the plan (with --dry-run) or the result as JSON")

    sub = command(
        "delete-user",
        "cmd_delete_user",
        "Delete IAM users and everything that blocks deleting them (keys, policies, groups, password, MFA...)",
    )
    sub.add_argument("users", nargs="+", metavar="USER")

    sub = command("policy", "cmd_policy", "Print the policy that `create` would use (with --policy: check it first)")
    _policy_options(sub, custom=True)
    _aws_check_options(sub, paid=True)

    sub = command("create", "cmd_create", "Create credentials for one or more buckets")
    _policy_options(sub, custom=True)
    sub.add_argument(
        "-d", "--duration", help="temporary credentials lasting this long (15m to 12h, e.g. 900, 15m, 2h, 1h30m)"
    )
    sub.add_argument(
        "--method",
        choices=CREDENTIAL_KINDS,
        metavar="METHOD",
        help="permanent (IAM user + key), assume-role or federation-token (default: assume-role with --duration)",
    )
    sub.add_argument("--username", help="IAM user name for permanent keys (default: s3.ACCESS.BUCKET)")
    sub.add_argument("--reuse-user", action="store_true", help="add a key to --username if it already exists")
    sub.add_argument("--role-name", help="role to assume for --method assume-role")
    sub.add_argument(
        "--grant-account",
        metavar="ACCOUNT_OR_ARN",
        help="instead of credentials, grant another AWS account (12-digit id, or a user/role ARN in it) access "
        "through the bucket policy; prints the identity policy that account must attach",
    )
    sub.add_argument(
        "--via-role",
        action="store_true",
        help="with --grant-account: instead of the bucket policy, a role that account assumes with an external id "
        "(for third-party services); --role-name names it",
    )
    sub.add_argument("--external-id", metavar="ID", help="with --via-role: the external id to require (default: generated)")
    sub.add_argument("-c", "--create-bucket", action="store_true", help="create buckets that do not exist")
    sub.add_argument("--bucket-region", help="region for buckets created by --create-bucket")
    sub.add_argument(
        "--no-permissions-boundary",
        action="store_true",
        help="do not cap the new user with an AWS-managed S3 permissions boundary",
    )
    sub.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    sub.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    _aws_check_options(sub, paid=True)
    sub.add_argument(
        "-f", "--format", choices=CREDENTIAL_FORMATS, metavar="FORMAT", default="json",
        help="how to print the credentials: %(choices)s (default: %(default)s)",
    )  # fmt: skip
    sub.add_argument("--silent", action="store_true", help="do not show the steps as they run (warnings and errors still)")
    sub.add_argument("--ini-profile", metavar="NAME", help="profile name for --format ini (default: default)")
    sub.add_argument(
        "--probe",
        action="store_true",
        help="then make real requests with the new key and print how they compare with the access asked for "
        "(to stderr; exit status 1 if any differs, the credentials are printed all the same)",
    )

    sub = command(
        "revoke-grant",
        "cmd_revoke_grant",
        "Remove a `create --grant-account` grant from bucket policies (other statements are kept as they are)",
    )
    sub.add_argument("buckets", nargs="+", metavar="BUCKET", help="bucket name(s)")
    sub.add_argument("--account", required=True, metavar="ACCOUNT_OR_ARN", help="the account id or ARN that was granted")
    sub.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")

    sub = command(
        "recover",
        "cmd_recover",
        "Undo what a create that was killed half-way left in AWS (from its journal)",
    )
    sub.epilog = (
        "Each run is undone with the profile, region and endpoint it used, unless given here. "
        "Exit status: 0 when everything listed is undone (or there was nothing), 1 otherwise."
    )
    sub.add_argument("--dry-run", action="store_true", help="list what would be undone and change nothing")

    sub = command(
        "probe",
        "cmd_probe",
        "Prove a key is scoped: make real requests with it and compare each answer with the access asked for",
    )
    sub.epilog = (
        "Exit status: 0 when every answer agrees, 1 when any differs or cannot tell, 2 for bad arguments. "
        "Your own identity (--profile/--endpoint-url) looks up objects to read and removes what the probe writes."
    )
    sub.add_argument("buckets", nargs="+", metavar="BUCKET", help="the bucket(s) the key is meant for")
    access = sub.add_mutually_exclusive_group()
    access.add_argument("--read-only", action="store_true", help="the key should read and list only")
    access.add_argument("--write-only", action="store_true", help="the key should upload only")
    sub.add_argument("--prefix", default="", help="the key should be limited to this prefix ('reports' means 'reports/')")
    sub.add_argument("--other-bucket", metavar="BUCKET", help="check that the key cannot reach this bucket (default: another bucket of the account)")
    keys = sub.add_argument_group("the key to probe")
    keys.add_argument(
        "--credentials-file",
        metavar="FILE",
        help=f"the JSON `{PROG} create --format json` prints ('-' reads stdin); the safest way to pass a secret",
    )
    keys.add_argument("--access-key-id", metavar="ID", help=f"the key's id; its secret comes from ${PROBE_SECRET_ENV}")
    keys.add_argument(
        "--secret-access-key",
        metavar="SECRET",
        help=f"the secret itself: visible to other users in `ps` and kept in shell history; prefer "
        f"${PROBE_SECRET_ENV} or --credentials-file",
    )
    keys.add_argument(
        "--session-token",
        metavar="TOKEN",
        help=f"for temporary keys (also visible in `ps`; ${PROBE_TOKEN_ENV} works too)",
    )
    sub.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    sub.add_argument(
        "--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
        help="how long to wait for a new key to be accepted (default: 30)",
    )

    sub = command(
        "simulate",
        "cmd_simulate",
        "Would this request be allowed? Evaluate IAM policies offline, including Conditions, boundaries and "
        "session policies",
    )
    sub.epilog = (
        "Exit status: 0 Allow, 3 Deny (scripts can branch on it), 2 for a malformed policy, an unknown condition "
        "operator or bad arguments, 1 when AWS could not be read (--user)."
    )
    sub.add_argument("action", metavar="ACTION", help="e.g. s3:GetObject")
    sub.add_argument("resource", metavar="RESOURCE", help="e.g. arn:aws:s3:::my-bucket/reports/a.csv")
    sub.add_argument(
        "--context",
        action="append",
        metavar="KEY=VALUE",
        help="a request context key, e.g. s3:prefix=reports/ or aws:SecureTransport=true; repeat a key for a list",
    )
    source = sub.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--policy-file", dest="policy_files", action="append", metavar="FILE",
        help="an identity policy (JSON file, '-' for stdin); repeat for several",
    )
    source.add_argument("--user", metavar="NAME", help="an IAM user's inline, attached and group policies and boundary")
    source.add_argument("--bucket", metavar="BUCKET", help="the policy `create` would generate for this bucket")
    source.add_argument(
        "--no-identity-policy", action="store_true",
        help="the caller has no identity policy at all (what a resource policy grants by itself)",
    )
    access = sub.add_mutually_exclusive_group()
    access.add_argument("--read-only", action="store_true", help="with --bucket: the read-only policy")
    access.add_argument("--write-only", action="store_true", help="with --bucket: the write-only policy")
    sub.add_argument("--prefix", default="", help="with --bucket: limited to this prefix")
    sub.add_argument("--boundary-file", metavar="FILE", help="a permissions boundary (replaces a --user's own)")
    sub.add_argument("--session-policy-file", metavar="FILE", help="a session policy (AssumeRole/federation Policy)")
    sub.add_argument("--resource-policy-file", metavar="FILE", help="the resource's policy, e.g. a bucket policy")
    sub.add_argument(
        "--principal", metavar="ARN",
        help="the caller: a user, role, assumed-role session, federated user or root ARN (default: --user's ARN)",
    )
    sub.add_argument(
        "--resource-account", metavar="ACCOUNT_ID",
        help="the account that owns the resource; if it is not the caller's, both sides must allow (cross-account)",
    )
    sub.add_argument("--json", action="store_true", help="print the decision as JSON")
    _aws_check_options(sub, paid=False)

    sub = command(
        "demo-server",
        "cmd_demo_server",
        "Keep one demo account running (until Ctrl-C) so that `--demo` commands share it; prints its settings",
    )
    sub.add_argument("--port", type=_port, default=0, help="the port to listen on, on 127.0.0.1 (default: a free one)")
    return parser
