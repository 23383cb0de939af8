"""The READMEs' links: every in-page anchor names a heading of its file, every relative link a file in the tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "benchmarks/README.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (``_`` and ``-`` kept), spaces as ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def prose(text: str) -> str:
    """The text outside fenced code blocks (a ``# comment`` there is no heading, a ``](x)`` no link)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def anchors(text: str) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", prose(text), flags=re.M)}


def test_slug_follows_githubs_rule():
    assert slug("Latest results: real data (`mal`)") == "latest-results-real-data-mal"
    assert slug("The user's offset (`history_offset`)") == "the-users-offset-history_offset"
    assert slug("Short histories (`--short-history`)") == "short-histories---short-history"
    assert anchors("# Top\n```\n# a comment\n```\n## Next (`x`)\n") == {"top", "next-x"}


@pytest.mark.parametrize("doc", DOCS)
def test_links_resolve(doc):
    path = ROOT / doc
    text = path.read_text(encoding="utf-8")
    own = anchors(text)
    broken = []
    for target in LINK.findall(prose(text)):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file) if file else path
        if not linked.exists():
            broken.append(target)
        elif anchor and anchor not in (own if not file else anchors(linked.read_text(encoding="utf-8"))):
            broken.append(target)
    assert not broken, f"{doc}: links to nothing: {broken}"
