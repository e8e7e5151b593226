"""Suite-wide rule: in CI a skipped test is a failure.

A few tests skip where a tool is missing on a developer's machine (tshark,
sipp's captures, libopus, IPv6 on lo). CI installs all of them (.ci/run), so
there a skip means a broken install step, and it must not pass as green.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import settings

# In CI, property tests run the same examples every time (a failure found by a
# random search is reproduced and fixed as a test, not left to luck).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where everything the tests need is installed: {reason}"
