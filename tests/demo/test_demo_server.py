"""`s3cred-tui demo-server`: one demo account shared by consecutive `--demo` commands.

This is the README's probe example, run as written: create credentials with one command, probe
them with the next.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from s3cred_tui.demo import running


def _command(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "s3cred_tui", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture
def state_env(tmp_path):
    env = {**os.environ, "S3CRED_TUI_STATE_DIR": str(tmp_path / "state")}
    return env


def test_demo_commands_share_the_account_a_demo_server_keeps(state_env, tmp_path):
    server = subprocess.Popen(
        [sys.executable, "-m", "s3cred_tui", "demo-server"],
        env=state_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    advert = tmp_path / "state" / running.ADVERT_NAME
    try:
        settings = [server.stdout.readline().strip() for _ in range(4)]  # printed once the account is ready
        assert settings[0].startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:")
        assert [line.split("=", 1)[0] for line in settings] == [
            "export AWS_ENDPOINT_URL", "export AWS_ACCESS_KEY_ID", "export AWS_SECRET_ACCESS_KEY", "export AWS_DEFAULT_REGION",
        ]
        assert advert.exists() and (advert.stat().st_mode & 0o777) == 0o600

        created = _command("create", "acme-data-lake", "--read-only", "--prefix", "reports/", "--demo", env=state_env)
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)
        assert key["AccessKeyId"] in created.stderr  # the id, never the secret, in the progress
        assert key["SecretAccessKey"] not in created.stderr

        creds_file = tmp_path / "creds.json"
        creds_file.write_text(created.stdout)
        probed = _command(
            "probe", "acme-data-lake", "--read-only", "--prefix", "reports/", "--credentials-file", str(creds_file),
            "--demo", "--json", env=state_env,
        )
        assert probed.returncode == 0, probed.stderr
        rows = json.loads(probed.stdout)["results"]
        assert rows and all(row["agrees"] for row in rows)

        second = _command("demo-server", env=state_env)
        assert second.returncode == 1 and "already running" in second.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        finally:
            if server.poll() is None:
                server.kill()
    assert server.returncode == 0, server.stderr.read()
    assert not advert.exists()


def test_a_stale_advert_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("S3CRED_TUI_STATE_DIR", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = running.RunningDemo("http://127.0.0.1:9", "AKIAEXAMPLE", "wJalrXUtnFEMI-demo-secret", "us-east-1", int(dead.stdout))
    running.advertise(stale)
    assert running.find_running() is None
    assert "wJalrXUtnFEMI" not in repr(stale)


def test_a_live_advert_is_found_until_withdrawn(monkeypatch, tmp_path):
    import socket

    monkeypatch.setenv("S3CRED_TUI_STATE_DIR", str(tmp_path))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        parent = os.getppid()  # alive, and not this process
        advert = running.RunningDemo(f"http://127.0.0.1:{port}", "AKIAEXAMPLE", "secret", "us-east-1", parent)
        running.advertise(advert)
        assert running.find_running() == advert
        running.withdraw(pid=parent)
        assert running.find_running() is None
