"""What every browser test needs: Debian's Chromium with the flags that keep it off the
network, the built faces, and a hub served for the faces' sign-ins.

Without chromium or a build (``make web``) a browser test is skipped, or fails under
``MALLNET_REQUIRE_SERVICES=1`` (``.ci/run``), as the service-backed tests do."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from hub.app import create_app as create_hub_app
from mallnet.config import Settings
from mallnet.webapps import dist_dir

from ..conftest import REQUIRE_SERVICES, free_ports
from ..live_server import LiveServer
from .signin_pages import prepare_hub

CHROMIUM = shutil.which("chromium")
FACES = ("app", "console", "dashboard")
# As FACTS.md says: without these, Chromium tries to reach outside hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if CHROMIUM is None:
        return "chromium is not installed (.ci/run installs Debian's package)"
    if not all((dist_dir() / face / "index.html").is_file() for face in FACES):
        return "the web faces are not built (make web)"
    return None


def require_browser() -> None:
    """Skip the test without chromium and a build; fail instead under
    MALLNET_REQUIRE_SERVICES=1."""
    if problem := missing():
        if REQUIRE_SERVICES:
            pytest.fail(f"MALLNET_REQUIRE_SERVICES=1 but {problem}", pytrace=False)
        pytest.skip(problem)


@contextmanager
def launched_chromium(extra_args: Sequence[str] = ()) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, *extra_args]
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def served_hub(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    seed: Callable[[Settings], Coroutine[Any, Any, None]] | None = None,
) -> Iterator[tuple[str, Settings]]:
    """A migrated hub with a shop, a mall admin and the shop's manager (``prepare_hub``),
    ``seed`` applied, served at the public URL its faces' sign-ins come back to."""
    require_browser()
    port = free_ports(1)[0]
    data_dir = tmp_path_factory.mktemp(name) / "var"
    settings = Settings(data_dir=data_dir, hub_url=f"http://127.0.0.1:{port}")
    asyncio.run(prepare_hub(settings))
    if seed is not None:
        asyncio.run(seed(settings))
    with LiveServer(create_hub_app(settings), port) as server:
        yield server.url, settings


@contextmanager
def watched_page(
    browser: Any, width: int = 1280, height: int = 900, *, downloads: bool = False
) -> Iterator[tuple[Any, list[str]]]:
    """A page in a fresh browser context, with the script errors it raises collected (a
    test ends by asserting there were none); the context is closed afterwards."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=downloads
    )
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        yield page, complaints
    finally:
        context.close()
