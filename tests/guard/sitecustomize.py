"""Loaded by every Python the tests start (tests/harness.py puts this folder on PYTHONPATH).

Installs the off-loopback guard (diagnose_test_guard.py), then runs the
`sitecustomize` this one shadows, if the interpreter has one.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import diagnose_test_guard

diagnose_test_guard.install()


def _chain() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in sys.path:
        if not folder or os.path.abspath(folder) == here:
            continue
        candidate = os.path.join(folder, "sitecustomize.py")
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


_chain()
