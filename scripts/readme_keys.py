"""Write the app's key table (made from its bindings) into README.md, between its markers.

    python scripts/readme_keys.py

tests/ui/test_ui_keys.py fails when the README's copy and the bindings differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from s3cred_tui.ui.app import key_places  # noqa: E402
from s3cred_tui.ui.keys import README_END, README_START, key_rows, markdown_table, with_readme_table  # noqa: E402


def main() -> None:
    readme = ROOT / "README.md"
    readme.write_text(with_readme_table(readme.read_text(encoding="utf-8"), markdown_table(key_rows(key_places()))))
    print(f"Key table written to {readme} between {README_START} and {README_END}.")


if __name__ == "__main__":
    main()
