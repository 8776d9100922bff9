"""The built web faces served by the hub (/app/, /console/) and each node (/dashboard/):
files, the single-page fallback, caching, and a clear page when a face was not built. A
tiny fake ``dist`` stands in for the real build, so no Node is needed here."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from hub.app import create_app as create_hub_app
from mallnet.config import Settings
from mallnet.webapps import IMMUTABLE, REVALIDATE, SERVICE_WORKER_POLICY, webapp_route
from shop_node.app import create_app as create_node_app

INDEX = '<!doctype html><html><body><div id="root"></div>{face}</body></html>'
SCRIPT = "console.log('built');"


def fake_build(dist: Path, *faces: str) -> Path:
    for face in faces:
        (dist / face / "assets").mkdir(parents=True)
        (dist / face / "index.html").write_text(INDEX.format(face=face), encoding="utf-8")
        (dist / face / "assets" / "index-Bx3kQ9aZ.js").write_text(SCRIPT, encoding="utf-8")
        (dist / face / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    return dist


def fake_pwa(dist: Path) -> Path:
    """What vite-plugin-pwa adds to the app's build: the service worker, Workbox, the
    manifest and its icons, all at the face's root."""
    app = dist / "app"
    (app / "sw.js").write_text("importScripts('./workbox-9c191d2f.js');", encoding="utf-8")
    (app / "workbox-9c191d2f.js").write_text("self.workbox = {};", encoding="utf-8")
    (app / "manifest.webmanifest").write_text('{"name": "mallnet"}', encoding="utf-8")
    (app / "icon-192.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return dist


def client_for(dist: Path, face: str = "app") -> TestClient:
    return TestClient(Starlette(routes=[webapp_route(face, dist=dist)]))


def test_the_page_and_its_client_routes_get_index_html_revalidated(tmp_path: Path) -> None:
    http = client_for(fake_build(tmp_path, "app"))
    for path in ("/app/", "/app/history", "/app/shops/ketab-sara/consents"):
        page = http.get(path)
        assert page.status_code == 200, path
        assert "app</body>" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == REVALIDATE
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
    # An unchanged page is answered 304 on revalidation, still not cached blindly.
    again = http.get("/app/", headers={"if-none-match": http.get("/app/").headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == REVALIDATE


def test_hashed_assets_are_cached_long_other_files_revalidated(tmp_path: Path) -> None:
    http = client_for(fake_build(tmp_path, "app"))
    script = http.get("/app/assets/index-Bx3kQ9aZ.js")
    assert script.status_code == 200
    assert script.text == SCRIPT
    assert script.headers["cache-control"] == IMMUTABLE
    assert "content-security-policy" not in script.headers
    icon = http.get("/app/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["cache-control"] == REVALIDATE
    head = http.head("/app/assets/index-Bx3kQ9aZ.js")
    assert head.status_code == 200
    assert head.content == b""


def test_a_missing_file_is_a_404_not_the_page(tmp_path: Path) -> None:
    """A stale page asking for an old hash must not get HTML as its script."""
    http = client_for(fake_build(tmp_path, "app"))
    for path in ("/app/assets/index-0ld0ne.js", "/app/icon-512.png", "/app/a/b/c.css"):
        missing = http.get(path)
        assert missing.status_code == 404, path
        assert "<html" not in missing.text


def test_nothing_outside_the_face_is_served(tmp_path: Path) -> None:
    dist = fake_build(tmp_path / "dist", "app", "console")
    (tmp_path / "dist" / "secret.txt").write_text("the key", encoding="utf-8")
    http = client_for(dist)
    for path in ("/app/%2E%2E/secret.txt", "/app/..%2Fsecret.txt", "/app/%2E%2E/console/"):
        answer = http.get(path)
        assert "the key" not in answer.text
        assert "console</body>" not in answer.text
    assert http.get("/app/%2E%2E/secret.txt").status_code == 404


def test_only_reading_methods(tmp_path: Path) -> None:
    http = client_for(fake_build(tmp_path, "app"))
    assert http.post("/app/", content=b"x").status_code == 405
    assert http.post("/app/history").status_code == 405


def test_the_bare_prefix_redirects_to_the_page(tmp_path: Path) -> None:
    http = client_for(fake_build(tmp_path, "app"))
    moved = http.get("/app", follow_redirects=False)
    assert moved.status_code in (307, 308)
    assert moved.headers["location"].endswith("/app/")


def test_a_face_not_built_says_how_to_build_it(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    http = client_for(dist, "console")
    for path in ("/console/", "/console/reports", "/console/assets/index-Bx3kQ9aZ.js"):
        page = http.get(path)
        assert page.status_code == 503, path
        assert "make web" in page.text
        assert "the mall console is not built yet" in page.text
        assert "کنسول مدیریت مال" in page.text
        assert page.headers["cache-control"] == "no-store"
    # Built while the server runs: served at once, no restart.
    fake_build(dist, "console")
    assert http.get("/console/reports").status_code == 200


def test_an_unknown_face_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown web face 'till'"):
        webapp_route("till", dist=tmp_path)


def test_the_hub_serves_app_and_console_and_a_node_its_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = fake_build(tmp_path / "dist", "app", "console", "dashboard")
    monkeypatch.setenv("MALLNET_WEB_DIST", str(dist))
    settings = Settings(data_dir=tmp_path / "var")
    hub = TestClient(create_hub_app(settings))
    assert "app</body>" in hub.get("/app/card").text
    assert "console</body>" in hub.get("/console/shops").text
    assert hub.get("/dashboard/").status_code == 404, "the dashboard lives on the nodes"
    node = TestClient(create_node_app("ketab-sara", settings))
    assert "dashboard</body>" in node.get("/dashboard/till").text
    assert node.get("/app/").status_code == 404, "the shopper app lives on the hub"


def test_the_service_worker_and_manifest_are_revalidated_with_their_types(
    tmp_path: Path,
) -> None:
    http = client_for(fake_pwa(fake_build(tmp_path, "app")))
    expected = {
        "/app/sw.js": "text/javascript; charset=utf-8",
        "/app/workbox-9c191d2f.js": "text/javascript; charset=utf-8",
        "/app/manifest.webmanifest": "application/manifest+json",
        "/app/icon-192.png": "image/png",
    }
    for path, media_type in expected.items():
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"] == media_type, path
        # Never immutable: a browser must see a new service worker on its next visit.
        assert answer.headers["cache-control"] == REVALIDATE, path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        again = http.get(path, headers={"if-none-match": answer.headers["etag"]})
        assert again.status_code == 304, path
        assert again.headers["cache-control"] == REVALIDATE, path
    assert http.get("/app/manifest.webmanifest").json() == {"name": "mallnet"}
    assert http.get("/app/sw.js").headers["content-security-policy"] == SERVICE_WORKER_POLICY


def test_the_page_lets_only_its_own_origin_be_its_worker_and_manifest(tmp_path: Path) -> None:
    http = client_for(fake_pwa(fake_build(tmp_path, "app")))
    policy = [
        rule.strip() for rule in http.get("/app/").headers["content-security-policy"].split(";")
    ]
    assert "worker-src 'self'" in policy
    assert "manifest-src 'self'" in policy
    # no script eval; WebAssembly for the Pay page's camera reader (ZXing)
    assert "script-src 'self' 'wasm-unsafe-eval'" in policy


def _policy(http: TestClient, path: str) -> list[str]:
    page = http.get(path)
    assert page.status_code == 200, path
    return [rule.strip() for rule in page.headers["content-security-policy"].split(";")]


def test_only_the_camera_faces_pages_may_compile_webassembly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The till's camera scan and the shopper app's (its Pay page reads the till's shop
    code) fall back to ZXing's WebAssembly ('wasm-unsafe-eval', still no script eval); the
    mall console runs none, so its pages may not."""
    dist = fake_build(tmp_path / "dist", "app", "console", "dashboard")
    monkeypatch.setenv("MALLNET_WEB_DIST", str(dist))
    settings = Settings(data_dir=tmp_path / "var")
    hub = TestClient(create_hub_app(settings))
    node = TestClient(create_node_app("ketab-sara", settings))
    policies = {
        "app": _policy(hub, "/app/pay"),
        "console": _policy(hub, "/console/"),
        "dashboard": _policy(node, "/dashboard/till"),
    }
    scripts = {
        face: [r for r in rules if r.startswith("script-src")] for face, rules in policies.items()
    }
    assert scripts == {
        "app": ["script-src 'self' 'wasm-unsafe-eval'"],
        "console": ["script-src 'self'"],
        "dashboard": ["script-src 'self' 'wasm-unsafe-eval'"],
    }
    assert not any("unsafe-eval'" in r for r in policies["console"])
    # and otherwise one policy for every face
    others = {
        face: [r for r in rules if not r.startswith("script-src")]
        for face, rules in policies.items()
    }
    assert others["app"] == others["console"] == others["dashboard"]
    assert "frame-ancestors 'none'" in others["app"]


def test_a_face_without_a_service_worker_answers_404_for_it(tmp_path: Path) -> None:
    """The console has no service worker: its sw.js is a 404, not the page's HTML (which a
    browser would refuse as a script anyway)."""
    http = client_for(fake_build(tmp_path, "console"), "console")
    for path in ("/console/sw.js", "/console/manifest.webmanifest"):
        missing = http.get(path)
        assert missing.status_code == 404, path
        assert "<html" not in missing.text
