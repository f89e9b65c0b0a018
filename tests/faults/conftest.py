"""Fixtures for the fault-injection suite, and its closing figures.

Each fault test records `fault_injected` (did the proxy really fire it) and
`fault_clean` (did the account end holding exactly what the tool reported) with
`record_property`; the terminal summary adds them up. Run the whole matrix with
`python -m pytest -m "" tests/faults` (the default run leaves out `slow`).
"""

from __future__ import annotations

import pytest

from tests.faults.proxy import FaultProxy

_TALLY: list[dict] = []


@pytest.fixture
def fault_proxy(server_account):
    with FaultProxy(server_account.endpoint_url) as proxy:
        yield proxy


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    props = dict(report.user_properties)
    if "fault_injected" in props:
        _TALLY.append(props)


def pytest_terminal_summary(terminalreporter):
    if not _TALLY:
        return
    injected = sum(1 for p in _TALLY if p["fault_injected"])
    clean = sum(1 for p in _TALLY if p["fault_injected"] and p["fault_clean"])
    terminalreporter.write_sep("-", "fault injection")
    terminalreporter.write_line(
        f"{injected} faults injected; {clean} left the account exactly as reported; "
        f"{injected - clean} left something behind unreported"
    )
    for props in _TALLY:
        if props["fault_injected"] and not props["fault_clean"]:
            terminalreporter.write_line(f"  {props['fault_case']}: {props['fault_problems']}")
