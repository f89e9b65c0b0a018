"""`create` in a subprocess, stopped mid-run by SIGINT, SIGTERM, SIGHUP, a second Ctrl-C, or
SIGKILL followed by `recover`: the account ends holding nothing that stdout/stderr did not name.

The fault proxy holds one request of the run (a `delay` fault) so the signal lands while a
step is under way; the account is read straight from moto.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from s3cred_tui.core.journal import unfinished_runs
from s3cred_tui.core.session import AwsContext, SessionConfig, Timeouts
from tests.faults.account import names_in, snapshot
from tests.faults.proxy import Fault

pytestmark = pytest.mark.e2e

EXISTING_BUCKET = "signal-existing"
NEW_BUCKET = "signal-new-bucket"
USER = "signal-user"
HOLD_SECONDS = 1.5  # shorter than the apply read timeout, so the held call still succeeds
WAIT = 60  # seconds: a bound on every wait here, never an expectation of speed

PERMANENT = ["--method", "permanent", "--username", USER]
ASSUME_ROLE = ["--method", "assume-role", "--duration", "15m"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "s3cred_tui", *args]


def _env(server_account, endpoint_url: str) -> dict[str, str]:
    return {**os.environ, **server_account.env(), "AWS_ENDPOINT_URL": endpoint_url}


def _create(server_account, proxy, method: list[str]) -> subprocess.Popen:
    argv = _cli("create", EXISTING_BUCKET, NEW_BUCKET, "--create-bucket", "--bucket-region", "eu-west-1", *method)
    return subprocess.Popen(
        argv, env=_env(server_account, proxy.endpoint_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(child: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = child.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate(timeout=10)
        pytest.fail(f"create did not stop within {WAIT} s; stderr: {err}")
    return child.returncode, out, err


def _wait_for(event: threading.Event, child: subprocess.Popen, what: str) -> None:
    if not event.wait(WAIT):
        child.kill()
        _, err = child.communicate(timeout=10)
        pytest.fail(f"{what} never reached the proxy; stderr: {err}")


def _wait_for_call(proxy, action: str) -> None:
    """Until the proxy has forwarded (and recorded) a held `action`: the change has happened."""
    done = threading.Event()
    for _ in range(WAIT * 10):
        if any(call.action == action for call in proxy.calls):
            return
        done.wait(0.1)
    pytest.fail(f"{action} was never forwarded")


def _unreported(before: set, after: set, lines: list[str]) -> list:
    """Changed items that no line names."""
    return [item for item in sorted((after - before) | (before - after), key=repr)
            if not any(all(word in line for word in names_in(item)) for line in lines)]


@pytest.fixture
def account(server_account):
    server_account.client("s3").create_bucket(Bucket=EXISTING_BUCKET)
    return server_account


SIGNAL_STEPS = {
    "permanent-CreateUser": (PERMANENT, "iam", "CreateUser"),
    "permanent-CreateAccessKey": (PERMANENT, "iam", "CreateAccessKey"),
    "assume-role-CreateRole": (ASSUME_ROLE, "iam", "CreateRole"),
    "assume-role-AssumeRole": (ASSUME_ROLE, "sts", "AssumeRole"),
}
# Each signal once by default; every signal at every step with `-m ""`.
DEFAULT_SIGNAL_CASES = {
    (signal.SIGINT, "permanent-CreateUser"),
    (signal.SIGTERM, "permanent-CreateAccessKey"),
    (signal.SIGHUP, "assume-role-CreateRole"),
}


def _signal_cases():
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        for name, (method, service, action) in SIGNAL_STEPS.items():
            marks = () if (signum, name) in DEFAULT_SIGNAL_CASES else (pytest.mark.slow,)
            yield pytest.param(signum, method, service, action, id=f"{signum.name}-{name}", marks=marks)


@pytest.mark.parametrize(("signum", "method", "service", "action"), list(_signal_cases()))
def test_a_stop_signal_mid_step_rolls_back_and_reports(account, fault_proxy, signum, method, service, action):
    before = snapshot(account.client)
    held = fault_proxy.add(Fault(service, action, "delay", hang_seconds=HOLD_SECONDS))
    child = _create(account, fault_proxy, method)
    _wait_for(held.arrived, child, action)
    child.send_signal(signum)
    code, out, err = _finish(child)

    after = snapshot(account.client)
    assert "Traceback" not in err
    if code == 0:
        # The signal came during the last step: it completed, so the credentials are printed.
        assert action == "AssumeRole"
        assert json.loads(out)["AccessKeyId"]
        assert _unreported(before, after, err.splitlines()) == []
    else:
        assert code == 130, err
        assert out == ""  # no credentials: nothing was kept
        assert f"Cancelling ({signum.name})" in err
        reported = [line for line in err.splitlines() if line.startswith("NOT undone:")]
        assert _unreported(before, after, reported) == []
        assert after == before
    assert unfinished_runs() == []  # a finished rollback leaves no journal


def test_a_second_ctrl_c_prints_what_is_half_made_and_recover_removes_it(account, fault_proxy):
    before = snapshot(account.client)
    key_step = fault_proxy.add(Fault("iam", "CreateAccessKey", "delay", hang_seconds=HOLD_SECONDS))
    undo_step = fault_proxy.add(Fault("iam", "DeleteUserPolicy", "delay", hang_seconds=HOLD_SECONDS))
    child = _create(account, fault_proxy, PERMANENT)
    _wait_for(key_step.arrived, child, "CreateAccessKey")
    child.send_signal(signal.SIGINT)
    _wait_for(undo_step.arrived, child, "the rollback's DeleteUserPolicy")
    child.send_signal(signal.SIGINT)
    code, out, err = _finish(child)
    _wait_for_call(fault_proxy, "DeleteUserPolicy")  # the held undo still lands after the exit

    assert code == 130 and out == ""
    lines = err.splitlines()
    start = lines.index("Stopped before the rollback finished. Half-made, not yet removed:")
    half_made = [line for line in lines[start + 1:] if line.startswith("  arn:")]
    account_id = json.loads(subprocess.run(
        _cli("whoami"), env=_env(account, account.endpoint_url), capture_output=True, text=True, timeout=WAIT
    ).stdout)["account"]
    assert any(line.startswith(f"  arn:aws:iam::{account_id}:user/{USER}: Delete user {USER}") for line in half_made)
    assert any(line.startswith(f"  arn:aws:s3:::{NEW_BUCKET}: Delete bucket {NEW_BUCKET}") for line in half_made)
    assert "s3cred-tui recover" in lines[-1]
    leftovers = snapshot(account.client)
    assert leftovers != before and _unreported(before, leftovers, half_made) == []

    recovered = subprocess.run(_cli("recover"), env=_env(account, account.endpoint_url), capture_output=True,
                               text=True, timeout=WAIT)
    assert recovered.returncode == 0, recovered.stderr
    assert f"undone: Delete user {USER} (arn:aws:iam::{account_id}:user/{USER})" in recovered.stdout
    assert snapshot(account.client) == before
    assert unfinished_runs() == []


def test_sigkill_then_recover_removes_exactly_what_the_run_made(account, fault_proxy):
    before = snapshot(account.client)
    key_step = fault_proxy.add(Fault("iam", "CreateAccessKey", "delay", hang_seconds=HOLD_SECONDS))
    child = _create(account, fault_proxy, PERMANENT)
    _wait_for(key_step.arrived, child, "CreateAccessKey")
    child.send_signal(signal.SIGKILL)
    _finish(child)
    _wait_for_call(fault_proxy, "CreateAccessKey")  # the key is made after its creator died

    made = snapshot(account.client) - before
    assert {item[0] for item in made} >= {"bucket", "user", "user-inline", "key"}
    env = _env(account, account.endpoint_url)

    notice = subprocess.run(_cli("whoami"), env=env, capture_output=True, text=True, timeout=WAIT)
    assert notice.returncode == 0
    [line] = [line for line in notice.stderr.splitlines() if "recover" in line]
    assert line.startswith("note: a run of s3cred-tui stopped before finishing") and "4 changes" in line

    preview = subprocess.run(_cli("recover", "--dry-run"), env=env, capture_output=True, text=True, timeout=WAIT)
    assert preview.returncode == 0, preview.stderr
    assert snapshot(account.client) - before == made  # a dry run changes nothing
    assert [line.split(": ", 1)[0] for line in preview.stdout.splitlines()] == ["would-undo"] * 4

    recovered = subprocess.run(_cli("recover"), env=env, capture_output=True, text=True, timeout=WAIT)
    assert recovered.returncode == 0, recovered.stderr
    assert _unreported(before, before | made, recovered.stdout.splitlines()) == []
    assert snapshot(account.client) == before
    assert unfinished_runs() == []
    again = subprocess.run(_cli("whoami"), env=env, capture_output=True, text=True, timeout=WAIT)
    assert "recover" not in again.stderr


def test_whoami_against_an_endpoint_that_never_answers_gives_up_after_a_few_bounded_attempts(server_account, fault_proxy):
    """The session's own bounds (here shortened to 1 s) end a hung call; the attempts are counted."""
    timeouts = Timeouts(connect=1.0, read=1.0, attempts=3)
    for occurrence in range(1, 6):
        fault_proxy.add(Fault("sts", "GetCallerIdentity", "hang", occurrence=occurrence, hang_seconds=30))
    ctx = AwsContext(SessionConfig(endpoint_url=fault_proxy.endpoint_url, region="us-east-1",
                                   access_key_id=server_account.admin.access_key_id,
                                   secret_access_key=server_account.admin.secret_access_key, timeouts=timeouts))
    from s3cred_tui.core.errors import S3CredError
    from s3cred_tui.core.inventory import whoami

    with pytest.raises(S3CredError) as caught:
        whoami(ctx)
    assert "GetCallerIdentity" in caught.value.message or "endpoint" in caught.value.message.lower()
    assert [c.action for c in fault_proxy.calls] == ["GetCallerIdentity"] * timeouts.attempts


def test_the_default_bounds_end_a_hung_call_well_within_a_minute():
    from s3cred_tui.core.session import APPLY_TIMEOUTS, DEFAULT_TIMEOUTS

    ctx = AwsContext(SessionConfig(region="us-east-1"))
    config = ctx.iam.meta.config
    assert (config.connect_timeout, config.read_timeout) == (DEFAULT_TIMEOUTS.connect, DEFAULT_TIMEOUTS.read)
    assert config.retries["total_max_attempts"] == DEFAULT_TIMEOUTS.attempts
    assert DEFAULT_TIMEOUTS.worst_case_seconds <= 45
    applying = ctx.for_apply().iam.meta.config
    assert (applying.read_timeout, applying.retries["total_max_attempts"]) == (APPLY_TIMEOUTS.read, 2)
    assert APPLY_TIMEOUTS.worst_case_seconds <= 20
