"""The emulator's public surface, and its promise to import nothing of crmsync but schemas."""

from __future__ import annotations

import ast
from pathlib import Path

import crmsync.emulators.salesforce as emulator_package
from crmsync.emulators.salesforce.control import ROUTES

PACKAGE_DIR = Path(emulator_package.__file__).parent
ALLOWED = ("crmsync.catalogs", "crmsync.emulators.salesforce")


def test_public_surface() -> None:
    assert set(emulator_package.__all__) == {
        "DEFAULT_CLIENT_ID",
        "DEFAULT_CLIENT_SECRET",
        "DEFAULT_DAILY_API_REQUESTS",
        "DEFAULT_PASSWORD",
        "DEFAULT_SECURITY_TOKEN",
        "DEFAULT_SESSION_SECONDS",
        "DEFAULT_USERNAME",
        "ApiError",
        "AuthConfig",
        "Emulator",
        "EmulatorState",
        "Org",
        "running_emulator",
        "serve",
    }
    for name in emulator_package.__all__:
        assert getattr(emulator_package, name) is not None


def test_imports_only_catalogs_and_itself() -> None:
    offending = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offending += [
                f"{path.relative_to(PACKAGE_DIR)}: {name}"
                for name in names
                if name.startswith("crmsync") and not name.startswith(ALLOWED)
            ]
    assert offending == []


def test_modules_stay_small() -> None:
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE_DIR.glob("*.py")
    }
    assert max(sizes.values()) <= 400, sizes


def test_control_api_is_documented() -> None:
    document = (PACKAGE_DIR / "CONTROL_API.md").read_text(encoding="utf-8")
    for route in ROUTES:
        assert route.path in document, route.path
