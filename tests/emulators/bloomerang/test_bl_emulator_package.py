"""The emulator's public surface, its promise to import nothing of crmsync but what the
emulators share, small modules, a documented control API, and a validator that really rejects
what the document forbids."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from bl_testkit import Validator
from testkit import foreign_imports

import crmsync.emulators.bloomerang as emulator_package
from crmsync.emulators.bloomerang.control import ROUTES

PACKAGE_DIR = Path(emulator_package.__file__).parent
ALLOWED = ("crmsync.emulators.bloomerang", "crmsync.emulators.common")


def test_public_surface() -> None:
    assert emulator_package.__all__ == sorted(emulator_package.__all__, key=lambda n: (not n.isupper(), n))
    assert set(emulator_package.__all__) == {
        "DEFAULT_API_KEY",
        "DEFAULT_CLIENT_ID",
        "DEFAULT_CLIENT_SECRET",
        "DEFAULT_MAX_TAKE",
        "DEFAULT_TOKEN_SECONDS",
        "ApiError",
        "AuthConfig",
        "Emulator",
        "EmulatorState",
        "Store",
        "running_emulator",
        "serve",
    }
    for name in emulator_package.__all__:
        assert getattr(emulator_package, name) is not None


def test_imports_nothing_of_crmsync_but_itself() -> None:
    assert foreign_imports(PACKAGE_DIR, ALLOWED) == []


def test_modules_stay_small() -> None:
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE_DIR.glob("*.py")
    }
    assert max(sizes.values()) <= 400, sizes


def test_control_api_is_documented() -> None:
    document = (PACKAGE_DIR / "CONTROL_API.md").read_text(encoding="utf-8")
    for route in ROUTES:
        assert route.path.replace(":int", "") in document, route.path


def _answer(path: str, body: object, status: int = 200) -> httpx.Response:
    request = httpx.Request("GET", f"http://127.0.0.1/v2{path}", headers={"X-API-KEY": "k"})
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        request=request,
        headers={"content-type": "application/json"},
    )


def test_the_validator_rejects_what_the_document_forbids(validator: Validator) -> None:
    validator.check(_answer("/constituent/1", {"Id": 1, "Type": "Individual"}))
    with pytest.raises(AssertionError, match=r"not nullable|None"):
        validator.check(_answer("/constituent/1", {"Id": 1, "FirstName": None}))
    with pytest.raises(AssertionError):
        validator.check(_answer("/constituent/1", {"Id": 1, "Type": "Robot"}))
    with pytest.raises(AssertionError):
        validator.check(_answer("/constituent/1", {"Id": 1, "AuditTrail": {"CreatedDate": "yesterday"}}))
    with pytest.raises(AssertionError, match="does not define"):
        validator.check(_answer("/constituent/1", {}, status=201))
    validator.check(
        _answer("/constituent/1", {"Message": "Constituent with ID 1 was not found."}, status=404)
    )
    with pytest.raises(Exception, match="Message"):
        validator.check(_answer("/constituent/1", {"error": "nope"}, status=404))


def test_custom_values_validate_only_with_the_discriminating_fix(validator: Validator) -> None:
    one = {"Id": 1, "CustomValues": [{"FieldId": 5, "Value": {"Id": 7, "Value": "x"}}]}
    many = {"Id": 1, "CustomValues": [{"FieldId": 5, "Values": [{"Id": 7, "Value": "x"}]}]}
    validator.check(_answer("/constituent/1", one))
    validator.check(_answer("/constituent/1", many))
    with pytest.raises(AssertionError):
        validator.check(_answer("/constituent/1", {"Id": 1, "CustomValues": [{"FieldId": 5}]}))
