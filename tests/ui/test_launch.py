"""Starting the app (`ui.launch`): the first pages are asked for before Textual is imported,
and the app's account screen continues those listings instead of starting its own."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from s3cred_tui.core.session import SessionConfig
from s3cred_tui.ui import launch

NOWHERE = SessionConfig(
    region="us-east-1", endpoint_url="http://127.0.0.1:9", access_key_id="AKIAEXAMPLE", secret_access_key="not-used"
)


def test_the_head_start_is_asked_for_before_textual_is_imported():
    # A fresh interpreter: this test process imported Textual long ago.
    code = textwrap.dedent(
        """
        import sys
        from s3cred_tui.ui import launch
        from s3cred_tui.core.session import SessionConfig

        seen = []

        class RecordingHeadStart:
            def __init__(self, aws):
                self.aws = aws
                seen.append(sorted(name for name in ("textual", "textual.app", "s3cred_tui.ui.app") if name in sys.modules))

        launch.HeadStart = RecordingHeadStart
        config = SessionConfig(region="us-east-1", endpoint_url="http://127.0.0.1:9", access_key_id="AKIAEXAMPLE", secret_access_key="x")
        app = launch.prepared_app(config, read_only=True)
        print(seen, type(app.take_account_head_start()).__name__, "textual.app" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[[]]", "RecordingHeadStart", "True"]


def test_the_prepared_app_hands_its_head_start_to_the_first_load_once(monkeypatch):
    made: list[object] = []

    class RecordingHeadStart:
        def __init__(self, aws):
            self.aws = aws
            made.append(self)

    monkeypatch.setattr(launch, "HeadStart", RecordingHeadStart)
    app = launch.prepared_app(NOWHERE, read_only=True)
    assert made and made[0].aws is app.aws
    app.on_load()  # loading the app keeps the listings already asked for
    assert app.take_account_head_start() is made[0]
    assert app.take_account_head_start() is None  # a refresh lists afresh


def test_a_missing_profile_falls_back_to_the_default_chain_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    aws, problem = launch.open_context(SessionConfig(profile="no-such-profile", region="us-east-1"))
    assert problem is not None and "no-such-profile" in str(problem)
    assert aws.config.profile is None
