"""The README's quick start is the gallery example's code, and the demo runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_quickstart_is_the_example():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start\s+```python\n(.*?)```", readme, re.S).group(1)
    example = (ROOT / "examples" / "plot_gdc_quickstart.py").read_text()
    assert block.strip() in example


def test_readme_starts_with_install_and_test_commands():
    first_block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    lines = [line for line in first_block.splitlines() if line.strip()]
    assert "pip install torch==2.13.0" in lines[0] and "python -m skconvex" in lines[0]
    assert "pip install torch==2.13.0" in lines[1] and "python -m pytest" in lines[1]
