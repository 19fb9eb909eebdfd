"""The emulator's public surface, and its promise to import nothing of crmsync but schemas and
what the emulators share."""

from __future__ import annotations

from pathlib import Path

from testkit import foreign_imports

import crmsync.emulators.salesforce as emulator_package
from crmsync.emulators.salesforce.control import ROUTES

PACKAGE_DIR = Path(emulator_package.__file__).parent
ALLOWED = ("crmsync.catalogs", "crmsync.emulators.salesforce", "crmsync.emulators.common")


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


def test_imports_only_catalogs_what_the_emulators_share_and_itself() -> None:
    assert foreign_imports(PACKAGE_DIR, ALLOWED) == []


def test_modules_stay_small() -> None:
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE_DIR.glob("*.py")
    }
    assert max(sizes.values()) <= 400, sizes


def test_control_api_is_documented() -> None:
    document = (PACKAGE_DIR / "CONTROL_API.md").read_text(encoding="utf-8")
    for route in ROUTES:
        assert route.path in document, route.path
