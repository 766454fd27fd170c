"""The shape of the code, checked on every run: layers hold, modules stay small."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "collective"
MAX_MODULE_LINES = 450


def test_the_import_contracts_hold_with_no_ignored_imports():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert all("ignore_imports" not in contract for contract in config["contracts"])
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is a dev dependency"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_no_module_is_over_450_lines():
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
             for path in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}
    assert len(sizes) > 50  # the walk found the package


def test_no_service_reads_the_clock():
    """Only the edges (views, commands, jobs, the demo) and the clock itself read the time."""
    edges = ("views", "cli", "jobs", "demo", "clock.py", "extensions.py", "money.py", "web")
    readers = []
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(PACKAGE).as_posix()
        if any(part in name for part in edges):
            continue
        text = path.read_text()
        for call in ("date.today()", "utcnow()", "datetime.now(", "now_utc()", "today_in("):
            if call in text:
                readers.append(f"{name}: {call}")
    assert readers == []
