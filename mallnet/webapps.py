"""The built web faces (``web/dist/<face>``) served as static files by the hub and nodes.

Each face is a single-page app: a path that names no file (a client route such as
``/app/history``) gets the face's ``index.html``, so reloads and shared links work. Vite
names every file under ``assets/`` by its content's hash, so those are cached for a year;
``index.html`` (which names the current hashes) and everything else is revalidated on each
visit, so a new build is seen at once. A face that was not built answers 503 with a page
saying how to build it, so the servers (and the Python tests) never need Node.

The shopper app is an installable PWA: its service worker (``sw.js``, with Workbox's
``workbox-<hash>.js``), its web app manifest (``manifest.webmanifest``) and icons sit at
the face's root, so they are revalidated too (a new service worker is picked up on the
next visit, never held back by a cache), and are sent with their proper media types.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Final

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = [
    "DIST_DIR",
    "FACES",
    "WASM_FACES",
    "SpaFiles",
    "content_security_policy",
    "dist_dir",
    "webapp_route",
]

DIST_DIR: Final = Path(__file__).resolve().parent.parent / "web" / "dist"
"""Where ``make web`` (``npm run build`` in ``web/``) puts the built faces."""

FACES: Final = {
    "app": ("اپ خریداران", "the shopper app"),
    "console": ("کنسول مدیریت مال", "the mall console"),
    "dashboard": ("داشبورد فروشگاه", "the shop dashboard"),
}

IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"
MEDIA_TYPES: Final = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
"""Set here rather than guessed from the host's mime.types, which may lack the manifest's."""
# The faces load only their own files and call only their own server's GraphQL. Mantine
# sets CSS variables in <style> elements, hence 'unsafe-inline' for styles (not scripts).
# The app's service worker and manifest come from the face's own origin only.
_PAGE_POLICY: Final = (
    "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
WASM_FACES: Final = frozenset({"app", "dashboard"})
"""The faces that compile WebAssembly ('wasm-unsafe-eval', still no script eval): the
dashboard (the till's camera scan) and the shopper app (the Pay page scans the till's shop
code), whose camera readers fall back to ZXing's wasm where the browser has no
``BarcodeDetector`` (Safari, desktop Chromium on Linux). The console's pages may not."""
SERVICE_WORKER_POLICY: Final = "default-src 'self'; script-src 'self'; object-src 'none'"
PAGE_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
"""Besides the face's ``content_security_policy``."""


# A page of a face to come back to after signing in: letters, digits, '-', '_' and single
# slashes under the face's own path; no scheme, host, query, dots or "//".
_SIGN_IN_ROUTES = frozenset({"login", "callback", "logout", "session"})
_PAGE_PATH = re.compile(r"(?:/[A-Za-z0-9_-]{1,64}){0,8}/?")


def return_path(face: str, asked: str | None) -> str:
    """Where a sign-in for ``face`` lands: the face's page the person asked for
    (``/dashboard/members``), else the face's first page. Anything else — another face, an
    absolute URL, ``//host``, a path with dots or a query — is never followed (no open
    redirect through the sign-in)."""
    home = f"/{face}/"
    if not asked or not asked.startswith(home):
        return home
    rest = asked[len(home) - 1 :]
    if rest.strip("/").split("/")[0] in _SIGN_IN_ROUTES:
        return home  # a landing there would sign in again or read "did not start here"
    return asked if len(asked) <= 400 and _PAGE_PATH.fullmatch(rest) else home


def content_security_policy(face: str) -> str:
    """The Content-Security-Policy of ``face``'s pages."""
    scripts = "'self' 'wasm-unsafe-eval'" if face in WASM_FACES else "'self'"
    return _PAGE_POLICY.format(scripts=scripts)


_NOT_BUILT = """<!doctype html>
<html lang="fa" dir="rtl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>mallnet</title></head>
<body style="font-family: sans-serif; max-inline-size: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>{name_fa} هنوز ساخته نشده است</h1>
<p>در پوشهٔ مخزن <code dir="ltr">make web</code> را اجرا کنید و این صفحه را دوباره باز کنید.</p>
<hr>
<div lang="en" dir="ltr">
<h1>{name_en} is not built yet</h1>
<p>Run <code>make web</code> in the repository, then reload this page.</p>
</div>
</body>
</html>
"""


def _names_a_file(path: str) -> bool:
    """A request for something with an extension (``main.js``, ``icon.png``) wants that
    file: when it is missing it is a 404, not the app's HTML in its place."""
    return "." in PurePosixPath(path).name


class SpaFiles(StaticFiles):
    """One built face: its files, ``index.html`` for client routes, 503 when not built."""

    def __init__(self, face: str, directory: Path) -> None:
        # check_dir=False: the face may be built after the server started (or never).
        super().__init__(directory=directory, check_dir=False)
        self.face = face
        self.root = directory
        self.page_headers = {
            **PAGE_HEADERS,
            "Content-Security-Policy": content_security_policy(face),
        }

    async def check_config(self) -> None:
        if self.root.is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not (self.root / "index.html").is_file():
            if scope["method"] not in ("GET", "HEAD"):
                raise HTTPException(status_code=405)
            name_fa, name_en = FACES.get(self.face, (self.face, self.face))
            page = _NOT_BUILT.format(name_fa=name_fa, name_en=name_en)
            return HTMLResponse(page, status_code=503, headers={"Cache-Control": "no-store"})
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or _names_a_file(path):
                raise
            path = "index.html"
            response = await super().get_response(path, scope)
        return self._with_headers(path, response)

    def _with_headers(self, path: str, response: Response) -> Response:
        name = PurePosixPath(path)
        hashed = name.parts[:1] == ("assets",)
        # Never immutable outside assets/: sw.js and the manifest above all must be
        # revalidated, or a browser would keep an old service worker's shell.
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        media_type = MEDIA_TYPES.get(name.suffix)
        if media_type and response.status_code == 200:
            response.headers["Content-Type"] = media_type
        response.headers["X-Content-Type-Options"] = "nosniff"
        if path == "index.html" or path.endswith(".html"):
            response.headers.update(self.page_headers)
        elif path == "sw.js":
            # The service worker's own policy (a worker's comes from its response): it may
            # load scripts (Workbox's) and fetch only from this origin.
            response.headers["Content-Security-Policy"] = SERVICE_WORKER_POLICY
        return response


def dist_dir() -> Path:
    """Where the built faces are: ``MALLNET_WEB_DIST`` or the repository's ``web/dist``."""
    return Path(os.environ.get("MALLNET_WEB_DIST") or DIST_DIR)


def webapp_route(face: str, prefix: str | None = None, dist: Path | None = None) -> BaseRoute:
    """The route serving ``face`` at ``/<face>/`` (or ``prefix``); ``/<face>`` redirects
    there. ``dist`` defaults to ``MALLNET_WEB_DIST`` or the repository's ``web/dist``."""
    if face not in FACES:
        raise ValueError(f"unknown web face {face!r}: one of {', '.join(FACES)}")
    root = dist or dist_dir()
    return Mount(prefix or f"/{face}", app=SpaFiles(face, root / face), name=f"web-{face}")
