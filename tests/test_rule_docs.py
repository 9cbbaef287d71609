"""docs/rules/ is generated from rules/ by scripts/gen_rule_docs.py: stale committed pages fail the suite."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from stickyforensics.detect.catalog import load_rules

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "gen_rule_docs.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_rule_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_rule_docs", module)  # dataclass/annotation lookups need the module registered
    spec.loader.exec_module(module)
    return module


gen = _load_script()


def test_committed_rule_docs_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    code = gen.main(["--check"])
    err = capsys.readouterr().err
    assert code == 0, f"docs/rules is stale (run: python scripts/gen_rule_docs.py):\n{err}"


def test_check_reports_stale_missing_and_extra_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rules"
    assert gen.main(["--out", str(out)]) == 0
    assert gen.main(["--check", "--out", str(out)]) == 0
    first = sorted(out.glob("SF*.md"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("## Why it matters", "## Why"), encoding="utf-8")
    (out / "index.md").unlink()
    (out / "SF999-gone.md").write_text("old page\n", encoding="utf-8")
    capsys.readouterr()
    assert gen.main(["--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{first.name}: stale" in err and "-## Why" in err and "+## Why it matters" in err
    assert "index.md: missing" in err
    assert "SF999-gone.md: not generated" in err
    assert gen.main(["--out", str(out)]) == 0  # writing repairs all three
    assert not (out / "SF999-gone.md").exists()
    assert gen.main(["--check", "--out", str(out)]) == 0


def test_every_rule_has_a_page_with_every_section_and_its_fixtures() -> None:
    pages = gen.generate()
    rules = load_rules()
    assert set(pages) == {"index.md"} | {f"{r.code}-{r.name}.md" for r in rules}
    for rule in rules:
        page = pages[f"{rule.code}-{rule.name}.md"]
        for section in (
            "## What it detects",
            "## Why it matters",
            "## Example",
            "## What to check",
            "## How to fix",
            "## False positives",
            "## References",
            "## Fixtures",
        ):
            assert section in page, f"{rule.code}: no {section!r}"
        for vendor, _fix in rule.remediation:
            assert f"| {vendor} |" in page, f"{rule.code}: remediation for {vendor} missing"
        folder = REPO / "tests" / "rules" / rule.code
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(REPO).as_posix()
            if not path.is_file() or any(p.startswith((".", "__")) for p in path.relative_to(folder).parts):
                continue
            assert f"[`{rel}`](../../{rel})" in page, f"{rule.code}: fixture {rel} not listed"
        assert f"[{rule.code}]({rule.code}-{rule.name}.md)" in pages["index.md"]


def test_generation_is_deterministic() -> None:
    assert gen.generate() == gen.generate()


def test_markdown_table_cells_are_escaped() -> None:
    assert gen._cell("a | b\n  c") == "a \\| b c"
    assert gen._fence("uses ``` inside") == "````"
