"""The layers of docs/architecture.md, enforced: an import that breaks a rule fails here.

Every import in every module counts, function-local ones too, so a rule cannot be hidden
by importing inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from jobs.settings import REPO_ROOT

# The plain-Python base every layer may use: config, the table registry, SQL quoting.
BASE = {"jobs.settings", "jobs.tables", "jobs.sql"}
# Each layer and the project layers it may import (besides itself). Read top to bottom:
# a layer may only use layers listed above it.
MAY_IMPORT: dict[str, set[str]] = {
    "jobs.settings": set(),
    "jobs.tables": set(),
    "jobs.sql": set(),
    "jobs.transforms": {"jobs.sql"},
    "jobs.ml": BASE | {"jobs.transforms"},
    "jobs.io": BASE | {"jobs.transforms"},
    "expectations": BASE | {"jobs.transforms", "jobs.io"},
    "jobs.compose": BASE | {"jobs.transforms", "jobs.ml", "jobs.io", "expectations"},
    "jobs.entrypoints": BASE | {
        "jobs.transforms", "jobs.ml", "jobs.io", "expectations", "jobs.compose",
    },
    "warehouse": BASE | {"jobs.io"},
    "devservers": {"jobs.settings", "jobs.sql", "jobs.io"},
    "assets": BASE | {
        "jobs.transforms", "jobs.ml", "jobs.io", "expectations", "jobs.compose",
        "jobs.entrypoints", "warehouse", "devservers",
    },
    "spark-submit": {
        "jobs.settings", "jobs.sql", "jobs.io", "jobs.compose", "jobs.entrypoints", "devservers",
    },
}  # fmt: skip
# Third-party packages a layer must not import at all.
FORBIDDEN: dict[str, set[str]] = {
    "jobs.settings": {"pyspark", "delta", "dagster", "dagster_pipes", "great_expectations"},
    "jobs.tables": {"pyspark", "delta", "dagster", "dagster_pipes", "great_expectations"},
    "jobs.sql": {"pyspark", "delta", "dagster", "dagster_pipes", "great_expectations"},
    "jobs.transforms": {"delta", "dagster", "dagster_pipes", "great_expectations", "boto3"},
    # Pure ML: Spark ML and plots; the registry (MLflow) is I/O and lives in jobs.io.
    "jobs.ml": {"delta", "dagster", "dagster_pipes", "mlflow", "boto3"},
    "jobs.io": {"dagster", "dagster_pipes"},
    "expectations": {"dagster", "dagster_pipes"},
    "jobs.compose": {"dagster", "dagster_pipes"},
    "jobs.entrypoints": {"dagster", "dagster_pipes"},
    "warehouse": {"dagster", "dagster_pipes"},
    "devservers": {"pyspark", "dagster"},
}
PROJECT = ("jobs", "expectations", "warehouse", "devservers", "assets")


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to (longest matching prefix)."""
    matches = [name for name in MAY_IMPORT if module == name or module.startswith(name + ".")]
    return max(matches, key=len) if matches else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, with its line, at any depth of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from jobs import io` names a sub-package: count it as that layer.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def sources() -> list[Path]:
    folders = [*PROJECT, "spark-submit"]
    return sorted(p for folder in folders for p in (REPO_ROOT / folder).rglob("*.py"))


def violations(path: Path) -> list[str]:
    # jobs/__init__.py is held to the strictest layer: it must import nothing.
    name = "jobs.settings" if module_name(path) == "jobs" else module_name(path)
    mine = "spark-submit" if path.parts[-2] == "spark-submit" else layer_of(name)
    assert mine, f"{path} belongs to no layer: add it to MAY_IMPORT"
    problems = []
    for line, imported in imports(path):
        top = imported.split(".")[0]
        if top in FORBIDDEN.get(mine, set()):
            problems.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {imported}")
        theirs = layer_of(imported) if top in PROJECT else None
        if theirs and theirs != mine and theirs not in MAY_IMPORT[mine]:
            problems.append(f"{path.relative_to(REPO_ROOT)}:{line} ({mine}) imports {imported}")
    return problems


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_imports_follow_the_layers(path):
    assert not violations(path)


def test_the_rules_have_no_cycle():
    def reaches(start: str, seen: set[str]) -> set[str]:
        for dep in MAY_IMPORT[start] - seen:
            seen |= {dep} | reaches(dep, seen | {dep})
        return seen

    assert not [layer for layer in MAY_IMPORT if layer in reaches(layer, set())]


def test_a_broken_rule_is_caught(tmp_path, monkeypatch):
    bad = REPO_ROOT / "jobs" / "transforms" / "_layer_probe.py"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: "def f():\n    import dagster\n")
    assert violations(bad) == ["jobs/transforms/_layer_probe.py:2 imports dagster"]
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: "from jobs.io import session\n")
    assert violations(bad) == [
        "jobs/transforms/_layer_probe.py:1 (jobs.transforms) imports jobs.io",
        "jobs/transforms/_layer_probe.py:1 (jobs.transforms) imports jobs.io.session",
    ]


def test_the_modules_make_test_starts_first_exist():
    from tests.conftest import SLOWEST_FIRST

    missing = [module for module in SLOWEST_FIRST if not (REPO_ROOT / module).is_file()]
    assert not missing, f"tests/conftest.py: SLOWEST_FIRST names no such module: {missing}"
