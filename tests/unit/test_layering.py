"""The layers hold: the pure rules import no database or service code, the services and the
API never reach into the UI, and every service module sits in a capability package.

Imports are read from the source (every `import`, at any depth), so an import hidden in a
function counts too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "vrm_dashboard"

# layer (a path under vrm_dashboard/) -> module prefixes it may never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": ("sqlalchemy", "sqlmodel", "reflex", "fastapi", "vrm_dashboard.db", "vrm_dashboard.services",
               "vrm_dashboard.api", "vrm_dashboard.ui", "vrm_dashboard.jobs"),
    "services": ("reflex", "vrm_dashboard.ui", "vrm_dashboard.api", "vrm_dashboard.jobs", "vrm_dashboard.cli",
                 "vrm_dashboard.vrm_dashboard"),
    "api": ("reflex", "vrm_dashboard.ui", "vrm_dashboard.vrm_dashboard"),
    "jobs": ("reflex", "vrm_dashboard.ui", "vrm_dashboard.api"),
    "live": ("reflex", "vrm_dashboard.ui", "vrm_dashboard.api"),
    "ui": ("vrm_dashboard.vrm_dashboard", "vrm_dashboard.api", "vrm_dashboard.jobs"),
    # The HTTP edge sees requests and responses, never the business rules or the screens.
    "web": ("vrm_dashboard.ui", "vrm_dashboard.services", "vrm_dashboard.api", "vrm_dashboard.db",
            "vrm_dashboard.vrm_dashboard"),
}


def imported_modules(source: str, module: str) -> set[str]:
    """Every module a source file imports, relative imports resolved against `module`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def crossings(layer: str, source: str, module: str) -> list[str]:
    banned = FORBIDDEN[layer]
    return sorted(name for name in imported_modules(source, module)
                  if any(name == b or name.startswith(b + ".") for b in banned))


def _modules_of(layer: str) -> list[tuple[str, Path]]:
    root = PACKAGE / layer
    files = [root.with_suffix(".py")] if not root.is_dir() else sorted(root.rglob("*.py"))
    return [(".".join(("vrm_dashboard", *f.relative_to(PACKAGE).with_suffix("").parts)), f) for f in files]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_import_crosses_a_layer(layer: str) -> None:
    offences = {module: found for module, path in _modules_of(layer)
                if (found := crossings(layer, path.read_text(), module))}
    assert offences == {}


def test_the_check_sees_a_crossing_even_inside_a_function() -> None:
    source = "def f():\n    from vrm_dashboard.ui.states import overview\n"
    assert crossings("services", source, "vrm_dashboard.services.reporting.x") == [
        "vrm_dashboard.ui.states", "vrm_dashboard.ui.states.overview"]
    assert crossings("domain", "from ..db import models\n", "vrm_dashboard.domain.x") == [
        "vrm_dashboard.db", "vrm_dashboard.db.models"]
    assert crossings("domain", "from decimal import Decimal\n", "vrm_dashboard.domain.x") == []


def test_every_service_module_belongs_to_a_capability_package() -> None:
    services = PACKAGE / "services"
    loose = [f.name for f in services.glob("*.py") if f.name != "__init__.py"]
    assert loose == []
    for package in (p for p in services.iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = package / "__init__.py"
        assert init.exists(), f"{package.name} is not a package"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{package.name}/__init__.py says nothing of what it owns"
