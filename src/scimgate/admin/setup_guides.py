"""The IdP setup guides, rendered to HTML for the console.

There is one source, ``docs/how-to/connect-<name>.md``. The wheel carries
copies under ``scimgate/admin/guides/`` (pyproject's ``force-include``), so an
installed server finds them next to this module; a source checkout or an
editable install, which has no such copies, reads the docs folder itself.

Guides are rendered with raw HTML off: markup typed into a guide comes out as
text, and markdown-it refuses ``javascript:``-style link targets. Links to
another connect guide point at its console page; links to the rest of the
documentation (not shipped with the package) are reduced to their text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

# IdP key (scimgate.model.idp) -> setup guide (docs/how-to/connect-<name>.md).
GUIDES = {
    "okta": "okta",
    "entra": "entra-id",
    "google": "google-workspace",
    "onelogin": "onelogin",
    "jumpcloud": "jumpcloud",
    "ping": "pingfederate",
    "rippling": "rippling",
}
_SOURCE = Path(__file__).resolve().parents[3] / "docs" / "how-to"
_SIBLING = re.compile(r"(?:\./)?connect-([a-z-]+)\.md(#[\w-]*)?")
_EXTERNAL = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


# Single sign-on protocol -> its guide (docs/how-to/sso-<protocol>.md), IdP notes included.
SSO_GUIDES = ("saml", "oidc")


def guide_text(name: str) -> str | None:
    """The markdown of guide ``name`` (a value of ``GUIDES``), or None if there is none."""
    if name not in GUIDES.values():
        return None
    return _read(f"connect-{name}.md")


def sso_guide_text(protocol: str, values: dict[str, str]) -> str | None:
    """The SSO guide of ``protocol`` with this tenant's values in place of the
    placeholders (``{PUBLIC_URL}/sso/{tenant}``, ...); None for another protocol."""
    text = _read(f"sso-{protocol}.md") if protocol in SSO_GUIDES else None
    if text is None:
        return None
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def _read(filename: str) -> str | None:
    packaged = resources.files("scimgate.admin").joinpath("guides", filename)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = _SOURCE / filename
    return source.read_text(encoding="utf-8") if source.is_file() else None


@cache
def guide_html(name: str) -> tuple[str, Markup] | None:
    """The guide's title (its first heading) and its body as safe HTML; None if unknown."""
    text = guide_text(name)
    return None if text is None else render_markdown(text, default_title=name)


def render_markdown(text: str, *, default_title: str = "") -> tuple[str, Markup]:
    """The first heading's text and the whole document as HTML that is safe to embed."""
    tokens = _markdown.parse(text)
    title = next(
        (tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"),
        default_title,
    )
    for token in tokens:
        if token.type == "inline" and token.children is not None:
            token.children = list(_console_links(token.children))
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return title, Markup(html)  # noqa: S704 -- markdown-it output with raw HTML disabled


def _console_links(children: list[Token]) -> Iterator[Token]:
    dropping = False
    for token in children:
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            sibling = _SIBLING.fullmatch(href)
            if sibling and sibling.group(1) in GUIDES.values():
                token.attrSet("href", f"/admin/guides/{sibling.group(1)}")
            elif not _EXTERNAL.match(href) and not href.startswith("#"):
                dropping = True  # a page of the documentation the package does not carry
                continue
        elif token.type == "link_close" and dropping:
            dropping = False
            continue
        yield token
