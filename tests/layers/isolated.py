"""Run a piece of test code in a fresh interpreter, so that a crash (a segfault, an abort)
fails the test that caused it instead of killing the whole test run.

The child gets this folder and the test folders on ``sys.path``, runs ``code`` and prints
JSON on its last stdout line; :func:`run` returns it (or fails with the child's stderr).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)


def run(code: str, timeout: float = 240):
    """Run ``code`` (which must ``print(json.dumps(result))`` last) in a subprocess.

    Returns the decoded result. A negative return code (killed by a signal: a segfault is
    -11, an abort -6) or any other non-zero exit fails with the child's output.
    """
    env = dict(os.environ)
    paths = [HERE, TESTS, os.path.join(TESTS, "kernels")]
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=TESTS)
    if proc.returncode != 0:
        how = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exit code {proc.returncode}")
        raise AssertionError(f"the isolated test process died ({how}):\n"
                             f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
