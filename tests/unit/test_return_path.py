"""Where a face's sign-in lands: the page asked for, under the same face, and nowhere else
(no open redirect through /<face>/login?next=...)."""

from __future__ import annotations

import pytest

from mallnet.webapps import return_path


@pytest.mark.parametrize(
    ("face", "asked", "lands"),
    [
        ("dashboard", "/dashboard/members", "/dashboard/members"),
        ("dashboard", "/dashboard/members/42", "/dashboard/members/42"),
        ("console", "/console/", "/console/"),
        ("console", "/console/lotteries/01HX-ab_c/", "/console/lotteries/01HX-ab_c/"),
        ("console", None, "/console/"),
        ("console", "", "/console/"),
    ],
)
def test_a_page_of_the_same_face_is_where_the_sign_in_lands(
    face: str, asked: str | None, lands: str
) -> None:
    assert return_path(face, asked) == lands


@pytest.mark.parametrize(
    "asked",
    [
        "https://evil.example/console/",
        "//evil.example/console/",
        "/console//evil.example",
        "/console/../app/",
        "/console/%2e%2e/app",
        "/console/x?y=1",
        "/console/x#y",
        "/console\\evil",
        "/app/history",
        "/consolex/",
        "/console/" + "a/" * 20,
        "/console/\u0645",
    ],
)
def test_anything_else_lands_on_the_face_first_page(asked: str) -> None:
    assert return_path("console", asked) == "/console/"


@pytest.mark.parametrize(
    "asked",
    ["/console/callback", "/console/login", "/console/session/", "/console/logout"],
)
def test_the_sign_in_endpoints_are_no_landing(asked: str) -> None:
    # Landing on /callback after signing in would read "this sign-in did not start here";
    # /login would start another sign-in.
    assert return_path("console", asked) == "/console/"
