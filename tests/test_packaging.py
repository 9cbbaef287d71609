"""The wheel a user installs carries the rule catalog and the HTML templates, and finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_ships_rules_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("stickyforensics-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    rules = {p.relative_to(REPO / "rules").as_posix() for p in (REPO / "rules").rglob("*.yaml")}
    assert rules and all(f"stickyforensics/_rules/{r}" in names for r in rules)
    assert "stickyforensics/_rules/cookies/families.yaml" in names
    assert any(n.startswith("stickyforensics/report/templates/") for n in names)
    assert "stickyforensics/py.typed" in names


def test_installed_wheel_loads_its_rules(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("stickyforensics-*.whl")
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = (
        "import stickyforensics.resources as r, stickyforensics.detect.catalog as c;"
        "print(r.rules_dir().name, len(c.load_rules()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    name, count = out.stdout.split()
    assert name == "_rules" and int(count) >= 15
