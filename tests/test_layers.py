"""The architecture, enforced: which layer of stickyforensics/ may import what.

Every module's imports are read with ``ast`` (module level, inside functions, under ``if TYPE_CHECKING``),
relative imports are resolved, and ``from pkg import name`` counts as importing ``pkg.name`` when that is a
module of the package. Each rule of ``RULES`` is one test case; a failure names the file, line and import.

A rule the current code breaks is marked ``xfail(strict=True)`` in ``KNOWN_VIOLATIONS`` with the exact
imports, so the suite stays green while the violation stays visible; ``test_no_new_violations`` keeps an
xfailed rule from hiding a second, unknown violation.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "stickyforensics"
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    """The importing module (``stickyforensics.track.jar``)."""
    path: str
    """Its file, relative to the repository."""
    line: int
    target: str
    """The imported module, absolute (``stickyforensics.model.cookies``, ``rich.console``)."""

    @property
    def top(self) -> str:
        return self.target.split(".", 1)[0]

    @property
    def key(self) -> str:
        """Stable across edits (no line number): how KNOWN_VIOLATIONS names an import."""
        return f"{self.path} imports {self.target}"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.module} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _package_modules() -> frozenset[str]:
    return frozenset(_module_name(p) for p in PACKAGE.rglob("*.py"))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports_of(path: Path) -> Iterator[Import]:
    module = _module_name(path)
    rel = path.relative_to(REPO).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    known = _package_modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, rel, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node)
            yield Import(module, rel, node.lineno, target)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # `from stickyforensics import pipeline` imports the pipeline module
                    yield Import(module, rel, node.lineno, sub)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(imp for path in sorted(PACKAGE.rglob("*.py")) for imp in _imports_of(path))


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _only(*allowed: str, stdlib: bool = True) -> Callable[[Import], bool]:
    """An import is fine when it is stdlib (if allowed) or within one of ``allowed``."""
    return lambda imp: (stdlib and imp.top in STDLIB) or _within(imp.target, *allowed)


def _not(*forbidden: str) -> Callable[[Import], bool]:
    return lambda imp: not _within(imp.target, *forbidden)


SF = "stickyforensics"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    applies: Callable[[Import], bool]
    """Which importing modules the rule constrains."""
    ok: Callable[[Import], bool]
    """Whether one of their imports is allowed."""
    text: str


def _in_layer(*layers: str) -> Callable[[Import], bool]:
    return lambda imp: _within(imp.module, *(f"{SF}.{layer}" for layer in layers))


def _path_is(*paths: str) -> Callable[[Import], bool]:
    return lambda imp: any(imp.path == p or imp.path.startswith(p.rstrip("/") + "/") for p in paths)


def _outside(*paths: str) -> Callable[[Import], bool]:
    inside = _path_is(*paths)
    return lambda imp: not inside(imp)


RULES: tuple[Rule, ...] = (
    Rule("model-stdlib-only", _in_layer("model"), _only(f"{SF}.model"), "model imports only the stdlib and itself"),
    Rule(
        "reconstruct-on-model",
        _in_layer("reconstruct"),
        _only(f"{SF}.model", f"{SF}.reconstruct"),
        "reconstruct imports only the stdlib, model and itself",
    ),
    Rule(
        "track-on-model",
        _in_layer("track"),
        _only(
            f"{SF}.model", f"{SF}.track", f"{SF}.config", f"{SF}.errors", f"{SF}.resources", f"{SF}.gc_pause", "yaml"
        ),
        "track imports only the stdlib, model, track, config, errors, resources, gc_pause and yaml",
    ),
    Rule(
        "detect-not-ingest-reconstruct-report",
        _in_layer("detect"),
        _not(f"{SF}.ingest", f"{SF}.reconstruct", f"{SF}.report"),
        "detect does not import ingest, reconstruct or report",
    ),
    Rule(
        "report-on-model",
        _in_layer("report"),
        _only(f"{SF}.model", f"{SF}.report", "rich", "jinja2"),
        "report imports only the stdlib, model, report, rich and jinja2 (no detect, track, ingest)",
    ),
    Rule(
        "capture-libraries-in-ingest",
        _outside("stickyforensics/ingest/"),
        _not("scapy", "pyshark", "haralyzer"),
        "only stickyforensics/ingest/ imports scapy, pyshark or haralyzer",
    ),
    Rule(
        "rich-in-terminal-and-cli",
        _outside("stickyforensics/report/terminal.py", "stickyforensics/cli/"),
        _not("rich"),
        "only report/terminal.py and cli/ import rich",
    ),
    Rule(
        "jinja2-in-html",
        _outside("stickyforensics/report/html.py"),
        _not("jinja2"),
        "only report/html.py imports jinja2",
    ),
)

KNOWN_VIOLATIONS: dict[str, tuple[str, ...]] = {
    # rule id -> the exact offending imports, as Import.key ("stickyforensics/x/y.py imports z");
    # each such rule is xfail(strict=True).
}


def violations(rule: Rule) -> list[Import]:
    return [imp for imp in all_imports() if rule.applies(imp) and not rule.ok(imp)]


def _case(rule: Rule) -> object:
    known = KNOWN_VIOLATIONS.get(rule.id)
    marks = [pytest.mark.xfail(strict=True, reason="known violation: " + "; ".join(known))] if known else []
    return pytest.param(rule, id=rule.id, marks=marks)


@pytest.mark.parametrize("rule", [_case(r) for r in RULES])
def test_layer_rule(rule: Rule) -> None:
    bad = violations(rule)
    assert not bad, f"{rule.text}; violated by:\n" + "\n".join(f"  {imp}" for imp in bad)


def test_no_new_violations() -> None:
    """A rule already xfailed for a known import must not hide another one."""
    new = [
        f"{rule.id}: {imp}"
        for rule in RULES
        if rule.id in KNOWN_VIOLATIONS
        for imp in violations(rule)
        if imp.key not in KNOWN_VIOLATIONS[rule.id]
    ]
    assert not new, "new layer violations:\n" + "\n".join(new)


def test_the_parser_sees_every_kind_of_import() -> None:
    """The scanner itself: function-level, relative, TYPE_CHECKING and `from pkg import module` imports."""
    targets = {(imp.module, imp.target) for imp in all_imports()}
    assert len(_package_modules()) > 20
    # `from stickyforensics import pipeline` inside a function of the package root
    assert (SF, f"{SF}.pipeline") in targets
    # imports inside functions (the CLI imports the pipeline lazily)
    assert (f"{SF}.cli.app", f"{SF}.pipeline") in targets
    assert any(m.startswith(f"{SF}.report") and t == "rich.console" for m, t in targets)

    node = ast.parse("from ..model import Request").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _resolve(f"{SF}.track.jar", False, node) == f"{SF}.model"
    assert _resolve(f"{SF}.track", True, node) == f"{SF}.model"  # in track/__init__.py
    sibling = ast.parse("from . import jar").body[0]
    assert isinstance(sibling, ast.ImportFrom)
    assert _resolve(f"{SF}.track.lb", False, sibling) == f"{SF}.track"


def _imp(module: str, target: str) -> Import:
    path = module.replace(".", "/") + ".py"
    return Import(module, path, 1, target)


@pytest.mark.parametrize(
    ("rule_id", "imp", "allowed"),
    [
        pytest.param("model-stdlib-only", _imp(f"{SF}.model.http", "dataclasses"), True, id="model-stdlib"),
        pytest.param("model-stdlib-only", _imp(f"{SF}.model.http", "yaml"), False, id="model-yaml"),
        pytest.param("model-stdlib-only", _imp(f"{SF}.model.http", f"{SF}.errors"), False, id="model-errors"),
        pytest.param("reconstruct-on-model", _imp(f"{SF}.reconstruct.tcp", f"{SF}.track"), False, id="rec-track"),
        pytest.param("track-on-model", _imp(f"{SF}.track.jar", f"{SF}.resources"), True, id="track-resources"),
        pytest.param("track-on-model", _imp(f"{SF}.track.jar", f"{SF}.detect.rule"), False, id="track-detect"),
        pytest.param(
            "detect-not-ingest-reconstruct-report",
            _imp(f"{SF}.detect.engine", f"{SF}.track.lb"),
            True,
            id="detect-track",
        ),
        pytest.param(
            "detect-not-ingest-reconstruct-report",
            _imp(f"{SF}.detect.engine", f"{SF}.report.json"),
            False,
            id="detect-report",
        ),
        pytest.param("report-on-model", _imp(f"{SF}.report.json", f"{SF}.detect.catalog"), False, id="report-detect"),
        pytest.param("report-on-model", _imp(f"{SF}.report.json", "markupsafe"), False, id="report-markupsafe"),
        pytest.param("capture-libraries-in-ingest", _imp(f"{SF}.ingest.native", "scapy.all"), True, id="ingest-scapy"),
        pytest.param("capture-libraries-in-ingest", _imp(f"{SF}.pipeline", "pyshark"), False, id="pipeline-pyshark"),
        pytest.param("rich-in-terminal-and-cli", _imp(f"{SF}.cli.progress", "rich.live"), True, id="cli-rich"),
        pytest.param("rich-in-terminal-and-cli", _imp(f"{SF}.report.html", "rich"), False, id="html-rich"),
        pytest.param("jinja2-in-html", _imp(f"{SF}.report.terminal", "jinja2"), False, id="terminal-jinja2"),
        pytest.param("jinja2-in-html", _imp(f"{SF}.report.html", "jinja2.sandbox"), True, id="html-jinja2"),
    ],
)
def test_rules_judge_imports(rule_id: str, imp: Import, allowed: bool) -> None:
    rule = next(r for r in RULES if r.id == rule_id)
    judged_ok = not rule.applies(imp) or rule.ok(imp)
    assert judged_ok is allowed, f"{rule.text}: {imp}"
