"""The README's Python examples run as tests, and its test command is what CI runs."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code):
    exec(compile(code, str(README), "exec"), {"__name__": "readme"})


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


def test_ci_runs_ruff():
    live = [line.split("#", 1)[0].strip() for line in (README.parent / ".ci" / "run").read_text().splitlines()]
    assert ".venv/bin/ruff check ." in live
