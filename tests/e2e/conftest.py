"""The browser every browser test of a module shares (tests/e2e/browsers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .browsers import launched_chromium, require_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    with launched_chromium() as chromium:
        yield chromium
