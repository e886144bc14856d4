"""Apps keep to their rooms (docs/architecture.md, "Layout"): read from the source, no Django.

``apps/core`` is the ground floor and imports no other app of the project; ``apps/demo`` is
the top floor and no app imports it; ``cards`` sits below ``certificates`` and never calls up;
every app imports only the apps listed above it in ``LAYERS`` (the order of the layout in
docs/architecture.md), and nothing finds another app through ``importlib``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"

# Bottom to top, as docs/architecture.md lists them. A new app takes its place here.
LAYERS = [
    "core",
    "accounts",
    "audit",
    "residents",
    "cards",
    "certificates",
    "fees",
    "notices",
    "applications",
    "counters",
    "home",
    "reports",
    "demo",
]

# The one known step up, kept in sight rather than hidden: the access log names the resident
# it is about (a foreign key to residents.Resident), while the residents app writes to the log
# when a My Number is revealed. The log is the lower app (everything writes to it).
UPWARD_ALLOWED = {("audit", "residents")}


def _imports(app: str) -> Iterator[tuple[Path, int, str]]:
    """Every module a file of ``app`` imports (also inside functions), with where it is."""
    for path in sorted((APPS / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.lineno, node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, node.lineno, alias.name


def _apps_imported_by(app: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, line, module in _imports(app):
        parts = module.split(".")
        if parts[0] == "apps" and len(parts) > 1 and parts[1] != app:
            found.setdefault(parts[1], []).append(f"{path.relative_to(APPS.parent)}:{line}")
    return found


def test_core_imports_no_other_app() -> None:
    assert _apps_imported_by("core") == {}


def test_no_app_imports_the_demo() -> None:
    importers = {
        app.name: where
        for app in APPS.iterdir()
        if app.is_dir() and app.name != "demo"
        for other, where in _apps_imported_by(app.name).items()
        if other == "demo"
    }
    assert importers == {}


def test_cards_know_nothing_of_certificates() -> None:
    """Certificates live on a card: apps.certificates calls apps.cards, never the reverse."""
    assert "certificates" not in _apps_imported_by("cards")


def test_the_walk_sees_imports_inside_functions() -> None:
    # A guard on the test itself: the old lazy import of certificates inside a card service
    # would have been found.
    source = "def f():\n    from apps.certificates.services import card_end\n"
    modules = [
        node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)
    ]
    assert modules == ["apps.certificates.services"]


def test_every_app_has_its_place_in_the_layers() -> None:
    apps = {path.parent.name for path in APPS.glob("*/apps.py")}
    assert apps - set(LAYERS) == set(), "add the new app to LAYERS and docs/architecture.md"


def test_apps_import_only_the_apps_below_them() -> None:
    upward = {
        (app, other): where
        for app in LAYERS
        if (APPS / app).is_dir()
        for other, where in _apps_imported_by(app).items()
        if other in LAYERS
        and LAYERS.index(other) > LAYERS.index(app)
        and (app, other) not in UPWARD_ALLOWED
    }
    assert upward == {}


def test_no_module_finds_another_app_through_importlib() -> None:
    """Imports are written out, so this walk (and a reader) sees every dependency."""
    users = [
        f"{path.relative_to(APPS.parent)}:{line}"
        for app in LAYERS
        if (APPS / app).is_dir()
        for path, line, module in _imports(app)
        if module.split(".")[0] == "importlib"
    ]
    assert users == []
