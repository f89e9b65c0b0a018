"""Property-based tests: no command line, however odd, ends in a traceback.

Every command's every argument gets random text and bytes: argv as Python decodes it
(undecodable bytes become lone surrogates), control, invisible and bidi characters, digits
of other scripts, huge numbers, and files holding deeply nested JSON, Latin-1 text or
random bytes. `main(argv)` runs in process with stdout and stderr encoded as a real pipe
would (UTF-8, strict on stdout); it must return 0, 1, 2 or 3, never raise, never reach the
last-resort handler, and say what went wrong in one stderr line.

`policy` and `simulate` need no account; the other commands run against moto (decorator
mode) seeded with a bucket and a user. The default run is small; `-m slow` runs the long
profile.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from s3cred_tui import cli

PROG = "s3cred-tui"
BUCKET = "fuzz-data"
USER = "fuzz-user"
INTERNAL_ERROR = f"{PROG}: internal error"

# About 180 command lines by default, the same ones every run (derandomized: CI never fails on
# a draw nobody can replay); the slow profile explores 2,000 fresh ones.
_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}
OFFLINE = settings(max_examples=100, derandomize=True, **_COMMON)
ACCOUNT = settings(max_examples=80, derandomize=True, **_COMMON)
SLOW = settings(max_examples=1000, **_COMMON)

# ---------------------------------------------------------------------------
# Argument values

# Characters that break terminals, reorder text or hide in it, and line breaks Python's
# str.splitlines() knows but a shell does not.
ODD_CHARACTERS = [
    "\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\xa0", "\xad",
    "\u200b", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202e",
    "\u2060", "\u2066", "\u2069", "\ufeff", "\ufffd", "\udcff", "\ud800", "e\u0301",
]
# Text that str.isdigit() or int() accepts but that is not an ASCII number.
ODD_NUMBERS = [
    "²", "³⁰⁰⁰", "١٢٠٠", "９００", "𝟗𝟎𝟎", "Ⅻ", "900\u00b2", "1_000", "0x384", "+900", "-900",
    "9" * 5000, "1e309", "nan", "inf", "15m\u00b2", "1h30m\u0663",
]

surrogate_text = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=5)
# What os.fsdecode makes of arbitrary bytes on the command line (surrogateescape).
argv_bytes = st.binary(min_size=1, max_size=24).map(os.fsdecode)


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=24),
        argv_bytes,
        surrogate_text,
        st.sampled_from(ODD_CHARACTERS + ODD_NUMBERS),
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
    )


def spiked(valid: list[str]) -> st.SearchStrategy[str]:
    """A plausible value, sometimes with an odd character or stray bytes spliced in, or plain junk."""

    @st.composite
    def splice(draw) -> str:
        base = draw(st.sampled_from(valid))
        odd = draw(st.one_of(st.sampled_from(ODD_CHARACTERS), argv_bytes, surrogate_text))
        at = draw(st.integers(min_value=0, max_value=len(base)))
        return base[:at] + odd + base[at:]

    @st.composite
    def value(draw) -> str:
        # Mostly plausible, so that most command lines get past the first check to the code behind it.
        roll = draw(st.integers(min_value=0, max_value=9))
        if roll < 6:
            return draw(st.sampled_from(valid))
        return draw(splice() if roll < 8 else nasty_text())

    return value()


buckets = spiked([BUCKET, BUCKET, BUCKET, "other-bucket", "other-bucket", "Fuzz-Data", "ab", "192.168.1.1", "xn--bucket", "a" * 64])
prefixes = spiked(["", "reports", "reports/", "reports", "reports/", "/reports", "a*b", "a?b", "r$", "caf\u00e9/", "cafe\u0301/", "x" * 1100])
names = spiked([USER, USER, "s3.read-only.fuzz-data", "s3.read-only.fuzz-data", "role-name", "a" * 65, "a b"])
durations = spiked(["900", "15m", "1h30m", "2h", "43200", "43201", "899", "0", ""]) | st.sampled_from(ODD_NUMBERS)
regions = spiked(["us-east-1", "eu-west-1", "not-a-region", ""])
actions = spiked(["s3:GetObject", "s3:ListBucket", "s3:*", "*", "iam:CreateUser"])
resources = spiked([f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/reports/a.csv", "*", "arn:aws:s3:::"])
contexts = spiked(["s3:prefix=reports/", "aws:SecureTransport=true", "s3:prefix=", "aws:username=alice"])
numbers = spiked(["1", "10", "1000", "0", "-1"])
seconds = spiked(["0.1", "0.5", "1"])
# A malformed endpoint is refused before any connection; a well-formed one could reach the network.
endpoints = st.sampled_from(["", "not a url", "ftp://x", "http://", "http://[::1", "http://\udcff", "http://a b", "\x00"])


# ---------------------------------------------------------------------------
# Files


def _nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    # Valid enough to pass json.loads, deep where later code walks it: a Condition value.
    deep = "[" * depth + '"x"' + "]" * depth
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )[:-2] + ', "Condition": {"StringEquals": {"s3:prefix": ' + deep + "}}}]}"


VALID_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}],
}
LATIN1_POLICY = json.dumps(
    {**VALID_POLICY, "Statement": [{**VALID_POLICY["Statement"][0], "Sid": "Caf\u00e9"}]}, ensure_ascii=False
).encode("latin-1")
VALID_CREDENTIALS = json.dumps({"AccessKeyId": "AKIAFUZZFUZZFUZZFUZZ", "SecretAccessKey": "s" * 40})

file_contents = st.one_of(
    st.builds(_nested, st.sampled_from([10, 900, 1100, 100_000]), st.sampled_from(["array", "object", "condition"])).map(
        str.encode
    ),
    st.just(LATIN1_POLICY),
    st.just(json.dumps(VALID_POLICY).encode("utf-16")),
    st.just(b"\xef\xbb\xbf" + json.dumps(VALID_POLICY).encode()),
    st.just(json.dumps(VALID_POLICY).encode()),
    st.just(json.dumps(VALID_POLICY["Statement"][0]).encode()),
    st.just(VALID_CREDENTIALS.encode()),
    st.just(b'{"Version": 1e999, "Statement": NaN}'),
    st.just(b'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 1' + b"0" * 5000 + b"}]}"),
    st.binary(max_size=64),
    st.text(max_size=64).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@dataclass
class FileMaker:
    """Writes drawn contents into a temporary directory and hands back a path (or an odd one)."""

    directory: str
    count: int = 0

    def paths(self) -> st.SearchStrategy[str]:
        def write(contents: bytes) -> str:
            self.count += 1
            path = os.path.join(self.directory, f"input-{self.count}.json")
            with open(path, "wb") as handle:
                handle.write(contents)
            return path

        odd_paths = st.sampled_from(
            ["-", self.directory, os.path.join(self.directory, "missing.json"), "a\x00b", "\udcff.json", "\ud800"]
        )
        return st.one_of(file_contents.map(write), odd_paths)


# ---------------------------------------------------------------------------
# Command lines

Draw = Callable[[st.SearchStrategy], object]


def _options(draw: Draw, table: list[tuple[str, st.SearchStrategy | None]]) -> list[str]:
    """Each option at random: a flag alone (strategy None) or with a drawn value, sometimes twice."""
    argv: list[str] = []
    for option, values in table:
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
            argv.append(option)
            if values is not None:
                argv.append(draw(values))
    return argv


def _one_of(draw: Draw, table: list[tuple[str, st.SearchStrategy | None]]) -> list[str]:
    """Mutually exclusive options: usually none or one of them, now and then two (a usage error)."""
    if not draw(st.integers(min_value=0, max_value=9)):
        return _options(draw, table)
    option, values = draw(st.sampled_from([*table, ("", None)]))
    if not option:
        return []
    return [option] if values is None else [option, draw(values)]


def _account_options(draw: Draw) -> list[str]:
    # Rarely: a bad profile or endpoint stops every command before the code behind it.
    if draw(st.integers(min_value=0, max_value=5)):
        return []
    return _options(draw, [("--region", regions), ("--profile", nasty_text()), ("--endpoint-url", endpoints)])


def _policy_shape(draw: Draw, files: FileMaker) -> list[str]:
    return _one_of(draw, [("--literal-prefix", None), ("--prefix-pattern", None)]) + _options(
        draw,
        [
            ("--prefix", prefixes),
            ("--extra-statements", files.paths()),
            ("--statement", st.one_of(nasty_text(), file_contents.map(lambda b: b.decode("utf-8", "surrogateescape")))),
        ],
    )


def offline_argv(files: FileMaker) -> st.SearchStrategy[list[str]]:
    """`policy` and `simulate` without --user: pure, no account."""

    @st.composite
    def policy(draw) -> list[str]:
        access = _one_of(draw, [("--read-only", None), ("--write-only", None)])
        return ["policy", *draw(st.lists(buckets, min_size=1, max_size=3)), *access, *_policy_shape(draw, files)]

    @st.composite
    def simulate(draw) -> list[str]:
        argv = ["simulate", draw(actions), draw(resources)]
        if draw(st.booleans()):
            argv += ["--bucket", draw(buckets)]
            argv += _one_of(draw, [("--read-only", None), ("--write-only", None)])
            argv += _options(draw, [("--prefix", prefixes)])
        else:
            argv += _options(draw, [("--policy-file", files.paths())]) or ["--policy-file", draw(files.paths())]
        argv += _options(
            draw,
            [
                ("--context", contexts),
                ("--boundary-file", files.paths()),
                ("--session-policy-file", files.paths()),
                ("--resource-policy-file", files.paths()),
                ("--json", None),
            ],
        )
        return argv

    return st.one_of(policy(), simulate())


def account_argv(files: FileMaker) -> st.SearchStrategy[list[str]]:
    """Commands that read or change the (moto) account."""

    @st.composite
    def create(draw) -> list[str]:
        argv = ["create", *draw(st.lists(buckets, min_size=1, max_size=2))]
        argv += _one_of(draw, [("--read-only", None), ("--write-only", None), ("--policy", files.paths())])
        # --policy is used as it is: shaping options with it are a usage error, so mostly leave them out.
        if "--policy" not in argv or not draw(st.integers(min_value=0, max_value=5)):
            argv += _policy_shape(draw, files)
        argv += _options(
            draw,
            [
                ("--duration", durations),
                ("--method", spiked(["permanent", "assume-role", "federation-token"])),
                ("--username", names),
                ("--reuse-user", None),
                ("--role-name", names),
                ("--create-bucket", None),
                ("--bucket-region", regions),
                ("--no-permissions-boundary", None),
                ("--json", None),
                ("--format", spiked(["json", "ini", "env", "credential-process"])),
                ("--ini-profile", names),
            ],
        )
        # Mostly dry runs; real ones change only the emulated account.
        if draw(st.integers(min_value=0, max_value=3)):
            argv.append("--dry-run")
        return argv

    @st.composite
    def listing(draw) -> list[str]:
        command = draw(st.sampled_from(["whoami", "list-buckets", "list-bucket", "list-users", "list-user-policies"]))
        argv = [command]
        if command == "list-bucket":
            argv += [draw(buckets), *_options(draw, [("--prefix", prefixes)])]
        if command == "list-user-policies":
            argv += draw(st.lists(names, max_size=2))
        if command == "list-buckets":
            argv += _options(draw, [("--details", None)])
        if command != "whoami":
            argv += _one_of(draw, [("--nl", None), ("--csv", None), ("--tsv", None)])
            argv += _options(draw, [("--page-size", numbers)])
        return argv

    @st.composite
    def probe(draw) -> list[str]:
        argv = ["probe", *draw(st.lists(buckets, min_size=1, max_size=2))]
        argv += _one_of(draw, [("--read-only", None), ("--write-only", None)])
        argv += _options(
            draw,
            [
                ("--prefix", prefixes),
                ("--other-bucket", buckets),
                ("--credentials-file", files.paths()),
                ("--access-key-id", nasty_text()),
                ("--secret-access-key", nasty_text()),
                ("--session-token", nasty_text()),
                ("--json", None),
            ],
        )
        # A key the account rejects is waited for; keep that wait short.
        return argv + ["--timeout", draw(seconds)]

    @st.composite
    def simulate_user(draw) -> list[str]:
        return ["simulate", draw(actions), draw(resources), "--user", draw(names)]

    return st.one_of(create(), listing(), probe(), simulate_user())


def with_account_options(commands: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    """Account options before or after the command, and now and then a stray word or flag."""

    @st.composite
    def build(draw) -> list[str]:
        argv = draw(commands)
        before = _account_options(draw)
        after = _account_options(draw)
        junk = []
        if not draw(st.integers(min_value=0, max_value=9)):
            junk.append(draw(st.one_of(nasty_text(), st.sampled_from(["--help", "--", "-", "--read-only"]))))
        return before + argv[:1] + after + argv[1:] + junk

    return build()


# ---------------------------------------------------------------------------
# Running


@dataclass
class Outcome:
    code: object
    out: str
    err: str
    escaped: BaseException | None


def run_main(argv: list[str]) -> Outcome:
    """`main(argv)` with stdout and stderr as a pipe would encode them and stdin empty."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    stdin = sys.stdin
    sys.stdin = io.StringIO("")
    escaped = None
    code: object = None
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(argv)
            except BaseException as exc:  # noqa: BLE001 - whatever escapes is the finding
                escaped = exc
    finally:
        sys.stdin = stdin
    texts = []
    for stream in (out, err):
        stream.flush()
        texts.append(stream.buffer.getvalue().decode("utf-8", "replace"))
    return Outcome(code, texts[0], texts[1], escaped)


def check(argv: list[str], outcome: Outcome) -> None:
    shown = repr(argv)[:500]
    if outcome.escaped is not None:
        raise AssertionError(f"{type(outcome.escaped).__name__} escaped main for {shown}") from outcome.escaped
    assert outcome.code in (0, 1, 2, 3), (outcome.code, shown)
    assert "Traceback" not in outcome.err, (shown, outcome.err[-2000:])
    # The last-resort handler is for bugs: reaching it means a cause was not fixed at its source.
    assert INTERNAL_ERROR not in outcome.err, (shown, outcome.err)
    # Only "\n" ends a line here: a U+2028 or U+0085 inside a quoted value is not a second line.
    lines = outcome.err.split("\n")[:-1] if outcome.err.endswith("\n") else outcome.err.split("\n")
    errors = [line for line in lines if line.startswith("error:")]
    if outcome.code == 2:
        # Bad input: one error line, last; before it at most notes and warnings about the input.
        assert len(errors) == 1 and lines[-1] == errors[0], (shown, outcome.err)
        assert all(line.startswith(("note:", "warning:", "error:")) for line in lines), (shown, outcome.err)
    else:
        assert len(errors) <= 1, (shown, outcome.err)


@pytest.fixture
def files():
    with tempfile.TemporaryDirectory() as directory:
        yield FileMaker(directory)


@pytest.fixture
def account(monkeypatch):
    """A moto account with a bucket, a user with a key, and a probe secret for --access-key-id."""
    import boto3

    monkeypatch.setenv("S3CRED_PROBE_SECRET_ACCESS_KEY", "s" * 40)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="reports/a.csv", Body=b"a")
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName=USER)
        iam.put_user_policy(UserName=USER, PolicyName="read", PolicyDocument=json.dumps(VALID_POLICY))
        yield


def _fuzz_offline(files: FileMaker, data) -> None:
    argv = data.draw(with_account_options(offline_argv(files)), label="argv")
    check(argv, run_main(argv))


def _fuzz_account(files: FileMaker, data) -> None:
    argv = data.draw(with_account_options(account_argv(files)), label="argv")
    check(argv, run_main(argv))


@OFFLINE
@given(data=st.data())
def test_offline_commands_never_crash(files, data):
    _fuzz_offline(files, data)


@ACCOUNT
@given(data=st.data())
def test_account_commands_never_crash(files, account, data):
    _fuzz_account(files, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_offline_commands_never_crash_long(files, data):
    _fuzz_offline(files, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_account_commands_never_crash_long(files, account, data):
    _fuzz_account(files, data)


# ---------------------------------------------------------------------------
# The causes found by fuzzing, each pinned down


def _write(directory, name: str, contents: bytes) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb") as handle:
        handle.write(contents)
    return path


def _one_error_line(outcome: Outcome, code: int, *fragments: str) -> str:
    assert outcome.escaped is None, outcome.escaped
    assert outcome.code == code, (outcome.code, outcome.err)
    lines = outcome.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_non_utf8_bytes_in_prefix_are_refused_naming_the_field():
    prefix = os.fsdecode(b"reports-\xff/")  # how Python hands over a non-UTF-8 argv byte
    _one_error_line(run_main(["policy", BUCKET, "--prefix", prefix]), 2, "prefix:", "0xFF", "not UTF-8")


@pytest.mark.parametrize("duration", ["²", "١٢٠٠", "９００", "9" * 5000])
def test_duration_in_other_digits_or_huge_is_refused(duration, account):
    _one_error_line(run_main(["create", BUCKET, "--duration", duration, "--dry-run"]), 2, "duration")


@pytest.mark.parametrize("depth", [900, 100_000])
def test_deeply_nested_policy_file_is_refused(files, depth, account):
    path = _write(files.directory, "deep.json", ("[" * depth + "]" * depth).encode())
    for argv in (
        ["create", BUCKET, "--policy", path, "--dry-run"],
        ["policy", BUCKET, "--extra-statements", path],
        ["simulate", "s3:GetObject", "*", "--policy-file", path],
        ["policy", BUCKET, "--statement", "[" * depth + "]" * depth],
    ):
        _one_error_line(run_main(argv), 2, "levels deep")


def test_latin1_policy_file_is_refused_naming_the_file(files, account):
    path = _write(files.directory, "latin1.json", LATIN1_POLICY)
    line = _one_error_line(run_main(["create", BUCKET, "--policy", path, "--dry-run"]), 2, "not UTF-8")
    assert repr(path) in line


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2028", "\x85", "\x1b"])
def test_prefix_with_invisible_or_bidi_characters_is_refused_on_one_line(char):
    line = _one_error_line(run_main(["policy", BUCKET, "--prefix", f"reports{char}/"]), 2, f"U+{ord(char):04X}")
    assert char not in line


def test_prefix_not_in_nfc_is_accepted_with_a_warning():
    outcome = run_main(["policy", BUCKET, "--prefix", "cafe\u0301"])
    assert outcome.code == 0, outcome.err
    assert outcome.err.startswith("warning: The prefix"), outcome.err
    assert "NFC" in outcome.err


@pytest.mark.parametrize("path", ["a\x00b.json", "\ud800.json"])
def test_unusable_file_names_are_refused(path):
    _one_error_line(run_main(["policy", BUCKET, "--extra-statements", path]), 2, "not a usable file name")


def test_unusable_endpoint_url_is_refused():
    _one_error_line(run_main(["whoami", "--endpoint-url", "http://a b"]), 2, "endpoint URL")


def test_input_echoed_in_an_error_stays_on_one_line():
    outcome = run_main(["whoami", "stray\nword\u2028\x1b[31m"])
    line = _one_error_line(outcome, 2, "unrecognized arguments")
    assert "\x1b" not in line and "\u2028" not in line


def test_last_resort_handler_prints_one_redacted_line(monkeypatch):
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    def broken(ctx, args):
        raise RuntimeError(f"bug while holding SecretAccessKey={secret}\nsecond line")

    monkeypatch.setattr("s3cred_tui.cli.parser.cmd_policy", broken)
    outcome = run_main(["policy", BUCKET])
    assert outcome.escaped is None
    assert outcome.code == 1
    assert outcome.err.count("\n") == 1, outcome.err
    assert outcome.err.startswith(f"{INTERNAL_ERROR}: RuntimeError: bug while holding SecretAccessKey=[REDACTED]")
    assert secret not in outcome.err and "EXAMPLEKEY" not in outcome.err

