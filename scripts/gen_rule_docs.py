#!/usr/bin/env python3
"""Generate docs/rules/ (an index and one page per rule) from the rule catalog.

The catalog (``rules/<category>/<CODE>-<name>.yaml``, loaded by ``stickyforensics.detect.catalog.load_rules``)
is the single source of truth; these pages are a readable view of it plus the rule's fixture files under
``tests/rules/<CODE>/``, so they are generated, never edited, and ``--check`` (run by the test suite) fails
when the committed pages are stale.

    python scripts/gen_rule_docs.py            # (re)write docs/rules/
    python scripts/gen_rule_docs.py --check    # exit 1 if docs/rules/ differs from what would be generated
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a plain script from a clone without an install
    sys.path.insert(0, str(REPO))

from stickyforensics.detect.catalog import load_rules  # noqa: E402
from stickyforensics.detect.rule import Rule  # noqa: E402

DOCS = REPO / "docs" / "rules"
FIXTURES = REPO / "tests" / "rules"
COMMAND = "python scripts/gen_rule_docs.py"
HEADER = f"<!-- generated from rules/ by {COMMAND}; do not edit -->\n"
_ROLE = {"positive": "must fire", "negative": "must stay quiet"}


def _cell(text: str) -> str:
    """Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _reference(item: str) -> str:
    return f"<{item}>" if re.match(r"^https?://\S+$", item) else item


def page_name(rule: Rule) -> str:
    return f"{rule.code}-{rule.name}.md"


def _rule_source(rule: Rule) -> str:
    """The rule's YAML file relative to the repository (the same wherever the catalog was loaded from)."""
    path = Path(rule.path)
    return f"rules/{path.parent.name}/{path.name}"


def fixture_files(code: str, root: Path = FIXTURES) -> list[tuple[str, str]]:
    """(role, repo-relative path) of every file under ``tests/rules/<code>/``, sorted; hidden files skipped."""
    folder = root / code
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part.startswith((".", "__")) for part in rel.parts):
            continue
        prefix = rel.parts[0].split("-", 1)[0]
        role = _ROLE.get(prefix, "configuration" if path.suffix == ".toml" else "support")
        out.append((role, f"tests/rules/{code}/{rel.as_posix()}"))
    return out


def render_rule(rule: Rule, fixtures: Sequence[tuple[str, str]]) -> str:
    """One rule's page."""
    fence = _fence(rule.example)
    lines = [
        HEADER,
        f"# {rule.code} {rule.name}",
        "",
        f"**{rule.title}**",
        "",
        "| | |",
        "|---|---|",
        f"| kind | `{rule.kind}` |",
        f"| category | {rule.category} |",
        f"| severity | {rule.severity.label} |",
        f"| confidence | {rule.confidence.value} |",
        f"| status | {rule.status} (since {rule.since}) |",
        f"| applies to | {', '.join(rule.applies_to)} |",
        f"| detector | `{rule.detector}` |",
        f"| source | [`{_rule_source(rule)}`](../../{_rule_source(rule)}) |",
        "",
        f"`stickyforensics explain {rule.code}` prints this page in the terminal.",
        "",
        "## What it detects",
        "",
        rule.summary,
        "",
        "## Why it matters",
        "",
        rule.why,
        "",
        "## Example",
        "",
        f"{fence}text",
        rule.example,
        fence,
        "",
        "## What to check",
        "",
        *(f"- {item}" for item in rule.what_to_check),
        "",
        "## How to fix",
        "",
        "| vendor | fix |",
        "|---|---|",
        *(f"| {_cell(vendor)} | {_cell(fix)} |" for vendor, fix in rule.remediation),
        "",
        "## False positives",
        "",
        *(f"- {item}" for item in rule.falsepositives),
        "",
        "## References",
        "",
        *(f"- {_reference(item)}" for item in rule.references),
        "",
    ]
    if rule.params:
        lines += ["## Parameters", "", "| name | value |", "|---|---|"]
        lines += [f"| `{_cell(k)}` | `{_cell(v)}` |" for k, v in rule.params]
        lines.append("")
    if rule.related:
        lines += ["## Related rules", "", *(f"- {item}" for item in rule.related), ""]
    lines += ["## Fixtures", ""]
    if fixtures:
        lines.append(f"Files under `tests/rules/{rule.code}/`, run by `tests/rules/test_catalog.py`:")
        lines.append("")
        lines += [f"- [`{path}`](../../{path}): {role}" for role, path in fixtures]
    else:
        lines.append(f"None: `tests/rules/{rule.code}/` is missing (the catalog tests fail on this).")
    lines.append("")
    return "\n".join(lines)


def render_index(rules: Sequence[Rule]) -> str:
    lines = [
        HEADER,
        "# Rule catalog",
        "",
        f"{len(rules)} rules, generated from `rules/` (one YAML file per rule). "
        "`stickyforensics rules` lists them and `stickyforensics explain <CODE>` shows one; "
        "`--disable <CODE>` or `disabled_rules` in the configuration turns one off.",
        "",
        "| code | name | kind | severity | title |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| [{r.code}]({page_name(r)}) | {r.name} | `{r.kind}` | {r.severity.label} | {_cell(r.title)} |" for r in rules
    ]
    lines.append("")
    return "\n".join(lines)


def generate(rules: Sequence[Rule] | None = None, fixtures_root: Path = FIXTURES) -> dict[str, str]:
    """File name (inside docs/rules/) -> content, for the whole catalog."""
    catalog = tuple(rules) if rules is not None else load_rules()
    pages = {"index.md": render_index(catalog)}
    for rule in catalog:
        pages[page_name(rule)] = render_rule(rule, fixture_files(rule.code, fixtures_root))
    return pages


def differences(pages: dict[str, str], out: Path) -> list[str]:
    """What differs between ``out`` and ``pages``: one readable line per file (plus a diff excerpt)."""
    problems = []
    present = {p.name for p in out.glob("*.md")} if out.is_dir() else set()
    for name in sorted(set(pages) | present):
        path = out / name
        if name not in pages:
            problems.append(f"{name}: not generated from any rule (delete it)")
        elif name not in present:
            problems.append(f"{name}: missing")
        else:
            current = path.read_text(encoding="utf-8")
            if current != pages[name]:
                diff = difflib.unified_diff(
                    current.splitlines(), pages[name].splitlines(), "committed", "generated", n=1, lineterm=""
                )
                excerpt = "\n".join(f"    {line}" for line in list(diff)[:12])
                problems.append(f"{name}: stale\n{excerpt}")
    return problems


def write(pages: dict[str, str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.md"):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def _show(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the docs differ from what would be generated")
    parser.add_argument("--out", type=Path, default=DOCS, help="output folder (default: docs/rules)")
    args = parser.parse_args(argv)
    pages = generate()
    if args.check:
        problems = differences(pages, args.out)
        if problems:
            print(f"{_show(args.out)} is stale; run: {COMMAND}", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(f"{_show(args.out)}: {len(pages)} pages up to date")
        return 0
    write(pages, args.out)
    print(f"{_show(args.out)}: wrote {len(pages)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
