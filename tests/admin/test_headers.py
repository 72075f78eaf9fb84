"""Every console response carries the security headers, and no template needs inline code."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from scimgate.admin.headers import CONTENT_SECURITY_POLICY
from scimgate.storage.admins import AdminAccount
from tests.admin.conftest import sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "scimgate" / "admin" / "templates"
# What a policy without 'unsafe-inline' blocks: inline script, handler attributes, style attributes.
_INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style", re.I)


@pytest.mark.parametrize(
    "path", ["/admin/login", "/admin/", "/admin/static/admin.css", "/admin/static/admin.js"]
)
def test_each_console_response_carries_the_security_headers(console: TestClient, path: str) -> None:
    headers = console.get(path).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_has_inline_script_handlers_or_styles(template: str) -> None:
    found = _INLINE.findall((TEMPLATES / template).read_text())
    assert found == [], f"{template} has inline code the policy would block: {found}"


def test_a_signed_in_page_carries_the_headers(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    response = console.get("/admin/")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
