"""The setup guides: rendered to safe HTML in the console, and shipped inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from scimgate.admin.setup_guides import GUIDES, render_markdown
from scimgate.storage.admins import AdminAccount
from tests.admin.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"


@pytest.mark.parametrize("name", sorted(GUIDES.values()))
def test_each_guide_is_a_rendered_page(
    console: TestClient, make_admin: Callable[..., AdminAccount], name: str
) -> None:
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    response = console.get(f"/admin/guides/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    source = (ROOT / "docs" / "how-to" / f"connect-{name}.md").read_text()
    title = source.splitlines()[0].removeprefix("# ")
    assert f"<h1>{title}</h1>" in response.text
    assert "<h2>" in response.text
    assert "<table>" in response.text  # every guide has a settings table
    assert "](" not in response.text  # no markdown link left unrendered
    assert "../reference/" not in response.text  # docs the package does not carry


def test_an_unknown_guide_is_404_and_guides_need_a_session(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    assert console.get("/admin/guides/okta").status_code == 303
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    for name in ("deploy", "admin-console", "OKTA", "okta.md", "%2e%2e%2fREADME"):
        assert console.get(f"/admin/guides/{name}").status_code == 404, name


def test_markdown_is_rendered_without_raw_html_or_script_links() -> None:
    text = "\n\n".join(
        [
            "# Title <b>x</b>",
            "<script>alert(1)</script>",
            '<img src=x onerror="alert(1)">',
            "[run](javascript:alert(1)) [settings](../reference/settings.md)",
            "[Okta](connect-okta.md#in-okta) [site](https://example.com/docs) [top](#title)",
        ]
    )
    title, html = render_markdown(text)
    assert title == "Title <b>x</b>"  # plain text; the template escapes it
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img" not in html
    assert 'href="javascript:' not in html
    assert "<p>[run](javascript:alert(1)) settings</p>" in html
    assert '<a href="/admin/guides/okta">Okta</a>' in html
    assert '<a href="https://example.com/docs">site</a>' in html
    assert '<a href="#title">top</a>' in html


@pytest.mark.skipif(not UV.exists(), reason="uv is not installed beside the interpreter")
def test_the_wheel_carries_every_guide(tmp_path: Path) -> None:
    built = subprocess.run(
        [str(UV), "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("scimgate-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in GUIDES.values():
            packaged = f"scimgate/admin/guides/connect-{name}.md"
            assert packaged in names
            source = (ROOT / "docs" / "how-to" / f"connect-{name}.md").read_bytes()
            assert archive.read(packaged) == source
        assert "scimgate/admin/templates/guide.html" in names
        assert "scimgate/admin/static/admin.css" in names
