"""The README's Python API, saved as a script without a ``__main__`` guard, runs as shown
(#23 item 10): the evaluation worker never re-runs the caller's script."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _api_block() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## The Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_api_runs_as_a_script(pmlb_dir: Path, tmp_path: Path) -> None:
    data = pmlb_dir / "appendicitis" / "appendicitis.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    code = _api_block()
    assert "__main__" not in code  # as a user saves it: no guard
    script = tmp_path / "readme_api.py"
    script.write_text(code.replace('"data.csv"', repr(str(data))).replace('target="class"', 'target="target"')
                      + '\nprint("DONE", outcome.result.status)\n')
    kb = tmp_path / "kb.sqlite"
    shutil.copy(REPO / "db" / "metakb-default.sqlite", kb)
    env = {**os.environ, "METAKB_DB": str(kb), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "DONE ok" in done.stdout
