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


def test_ci_runs_the_readme_test_command():
    text = README.read_text()
    marker = text.index("<!-- test-command -->")
    command = text[marker:].split("```")[1].split("\n", 1)[1].strip()
    assert "pytest" in command
    ci = (README.parent / ".ci" / "run").read_text()
    assert "test-command" in ci  # .ci/run reads the command from the README itself
