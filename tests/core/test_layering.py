"""The core and the command line never import Textual: they must work headless and start fast."""

import subprocess
import sys

HEADLESS_MODULES = [
    "s3cred_tui.core.errors",
    "s3cred_tui.core.session",
    "s3cred_tui.core.request",
    "s3cred_tui.core.validation",
    "s3cred_tui.core.policies",
    "s3cred_tui.core.credentials",
    "s3cred_tui.core.inventory",
    "s3cred_tui.core.plan",
    "s3cred_tui.core.apply",
    "s3cred_tui.core.simulate",
    "s3cred_tui.core.probe",
    "s3cred_tui.core.access_map",
    "s3cred_tui.cli",
]


def test_headless_modules_never_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
