"""The documentation holds together: the MkDocs site builds with --strict (no broken link, no wrong API reference,
no page left out of the navigation), and the README stays a short front door that is still a valid Space card."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mkdocs.config import load_config

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
README_MAX_LINES = 200
# The keys Hugging Face reads from the card to build and describe the Space.
SPACE_CARD_KEYS = ("title", "sdk", "sdk_version", "python_version", "app_file", "license", "short_description")


def nav_pages(nav) -> list[str]:
    """Every page path named in a MkDocs nav (strings, {title: path} and nested sections)."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return [page for item in nav or [] for page in nav_pages(item)]


def build_site(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_site_builds_strictly(tmp_path):
    """A broken link, a missing anchor, an API reference to a module that is gone or a page left out of the nav
    is a warning, and --strict makes every warning fail the build."""
    result = build_site(REPO / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr[-4000:]
    tagger_page = (tmp_path / "site" / "reference" / "inference" / "index.html").read_text()
    assert "from_pretrained" in tagger_page  # the API reference was generated from the docstrings, not left empty
    results_page = (tmp_path / "site" / "results" / "index.html").read_text()
    assert "eval_set" in results_page  # results/README.md was included, not just linked


def test_every_docs_page_is_in_the_nav():
    """A page that is not in the nav cannot be reached from the site: it is as good as lost."""
    nav = set(nav_pages(load_config(str(REPO / "mkdocs.yml"))["nav"]))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert pages - nav == set(), "docs pages missing from mkdocs.yml's nav"
    assert nav - pages == set(), "nav entries without a page"


def test_readme_is_a_short_front_door_and_still_the_space_card():
    text = (REPO / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; the manual belongs in docs/"
    assert lines[0] == "---", "the Space card's front matter must open the file"
    front = text.split("---")[1]
    card = dict(re.findall(r"^([a-z_]+):\s*(.+?)\s*$", front, re.M))
    missing = [key for key in SPACE_CARD_KEYS if key not in card]
    assert not missing, f"Space card keys missing: {missing}"
    assert card["sdk"] == "gradio" and (REPO / card["app_file"]).is_file()


def test_readme_links_point_at_files_that_exist():
    """The front door sends readers into docs/: each relative link must land on a file (and the README's
    picture must be there)."""
    text = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert "docs/img/demo.png" in local
    broken = [t for t in local if not (REPO / t).is_file()]
    assert not broken, f"README links to missing files: {broken}"
