"""The Python examples of the README and of the documentation (docs/) run as tests, the
README's links into the docs resolve, and the README's test command is what CI runs."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)]


def _blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


EXAMPLES = [(page, i, code) for page in PAGES for i, code in enumerate(_blocks(page))]


def test_readme_and_docs_have_examples():
    assert _blocks(README), "the README shows the book's code running on fastprop"
    assert len(EXAMPLES) >= 5, "the getting-started, from-the-book, threads and sweeps pages have examples"


@pytest.mark.parametrize("page, i, code", EXAMPLES,
                         ids=[f"{page.relative_to(ROOT)}:block{i}" for page, i, _ in EXAMPLES])
def test_example_runs(page, i, code):
    """Run as a module that is not ``__main__`` (an example that starts a cluster guards itself
    with ``if __name__ == "__main__":``, as scripts that start a LocalCluster must)."""
    exec(compile(code, str(page), "exec"), {"__name__": "docs_example"})


def _slug(heading):
    """The anchor of a Markdown heading, as MyST (myst_heading_anchors) and GitHub make it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path):
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)  # a '#' comment in a block is no heading
    return {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def test_readme_links_resolve():
    """The README is read on its own (GitHub, the package index): every relative link must
    name a file of the repository, and an anchor a heading of that file. (Links between the
    docs' pages are checked by the docs build, sphinx-build -n -W.)"""
    links = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    relative = [link for link in links if "://" not in link]
    assert relative, "the README links into the docs"
    for link in relative:
        target, _, anchor = link.partition("#")
        path = (README.parent / target).resolve()
        assert path.is_file(), f"README links to a missing file: {link}"
        if anchor:
            assert anchor in _anchors(path), f"README links to a missing heading: {link}"


def test_readme_is_a_front_page():
    assert len(README.read_text().splitlines()) <= 150


def _readme_command():
    text = README.read_text()
    marker = text.index("<!-- test-command -->")
    return text[marker:].split("```")[1].split("\n", 1)[1].strip()


def test_ci_runs_the_readme_test_command():
    """.ci/run extracts exactly the README's command and runs it: its extraction line is run
    here on the README, and the line that executes the result must be live code."""
    import subprocess

    command = _readme_command()
    assert "pytest" in command
    ci = (README.parent / ".ci" / "run").read_text().splitlines()
    live = [line.split("#", 1)[0].strip() for line in ci]
    extract = [line for line in live if line.startswith("test_command=")]
    assert len(extract) == 1, "the README's command must be read in exactly one place"
    got = subprocess.run(["bash", "-c", extract[0] + '; printf %s "$test_command"'], cwd=README.parent,
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0 and got.stdout == command
    assert 'bash -c "$test_command"' in live, ".ci/run must execute the extracted command"
    assert "set -euo pipefail" in live, "a failing test command must fail the CI run"


def _live(path):
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]


def test_ci_runs_ruff():
    assert ".venv/bin/ruff check ." in _live(README.parent / ".ci" / "run")


def test_ci_builds_the_docs_with_warnings_as_errors():
    """.ci/run calls .ci/docs, which installs the docs extra and runs sphinx-build nitpicky
    with warnings as errors (a broken cross-reference fails CI)."""
    assert ".ci/docs" in _live(ROOT / ".ci" / "run")
    docs = _live(ROOT / ".ci" / "docs")
    assert "set -euo pipefail" in docs
    assert any("pip install" in line and ".[docs]" in line for line in docs)
    build = [line for line in docs if "sphinx-build" in line]
    assert len(build) == 1 and {"-n", "-W"} <= set(build[0].split())
