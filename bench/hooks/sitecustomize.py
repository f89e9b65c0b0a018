"""Counts the AWS API calls a Python process makes (put on PYTHONPATH by the benchmark).

Active only when BENCH_CALLS_FILE is set. botocore is not imported here: an import hook
wraps `BaseClient._make_api_call` when the process itself first imports `botocore.client`,
so start-up time is unchanged and every client of every session is counted, whatever
tool made it. One count per API call (botocore retries inside a call are not counted).
At exit the counts go to BENCH_CALLS_FILE as JSON: {"service:Operation": n, ...}.
"""

from __future__ import annotations

import os
import sys

_PATH = os.environ.get("BENCH_CALLS_FILE")

if _PATH:
    import atexit
    import importlib.abc
    import importlib.util
    import json
    import threading

    _counts: dict[str, int] = {}
    _lock = threading.Lock()

    def _patch(module) -> None:
        original = module.BaseClient._make_api_call

        def _make_api_call(self, operation_name, api_params):
            name = f"{self.meta.service_model.service_name}:{operation_name}"
            with _lock:
                _counts[name] = _counts.get(name, 0) + 1
            return original(self, operation_name, api_params)

        module.BaseClient._make_api_call = _make_api_call

    class _BotocoreClientHook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "botocore.client":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                _patch(module)

            spec.loader.exec_module = exec_and_patch
            return spec

    def _write() -> None:
        with _lock:
            data = dict(sorted(_counts.items()))
        with open(_PATH, "w", encoding="utf-8") as handle:
            json.dump(data, handle)

    sys.meta_path.insert(0, _BotocoreClientHook())
    atexit.register(_write)
