"""Reading request bodies: the document's enumerations and typed, validated field access.

Every problem is a 400 with a message naming the field, as model validation does in
Bloomerang's API. Absent keys leave a value unchanged on update; ``null`` clears it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from .clock import parse_date
from .errors import bad_request

CONSTITUENT_TYPES = ("Individual", "Organization")
STATUSES = ("Active", "Inactive", "Deceased")
GENDERS = ("Male", "Female", "Other")
PROFILE_PICTURE_TYPES = ("None", "Custom", "Twitter")
PHONE_TYPES = ("Home", "Work", "Mobile", "Fax")
EMAIL_TYPES = ("Home", "Work")
ADDRESS_TYPES = ("Home", "Vacation", "Work")
CHANNELS = ("Email", "Phone", "TextMessage", "Mail")
RESTRICTIONS = ("DoNotCall", "DoNotMail", "DoNotSolicit")
EMAIL_INTEREST_TYPES = ("All", "Custom", "OptedOut")
ENGAGEMENT_SCORES = ("Low", "MediumLow", "Medium", "MediumHigh", "High")
METHODS = ("None", "Cash", "Check", "CreditCard", "Eft", "InKind", "ApplePay", "GooglePay", "PayPal", "Venmo")
ENTRY_METHODS = ("Tap", "Manual", "Insert", "ExistingWalletItem", "AutoProcessed")
METHOD_ORIGINS = ("Forms", "Mobile", "CRM")
CARD_TYPES = ("Visa", "MasterCard", "Discover", "AmericanExpress", "DinersClub", "JCB")
EFT_ACCOUNT_TYPES = ("Checking", "Savings")
IN_KIND_TYPES = ("Goods", "Services")
ACKNOWLEDGEMENT_STATUSES = ("Yes", "No", "DoNotAcknowledge")
DESIGNATION_TYPES = ("Donation", "Pledge", "PledgePayment", "RecurringDonation", "RecurringDonationPayment")
RECURRING_FREQUENCIES = (
    "Weekly",
    "EveryOtherWeekly",
    "TwiceMonthly",
    "Monthly",
    "EveryOtherMonthly",
    "Quarterly",
    "Yearly",
)
PLEDGE_FREQUENCIES = (*RECURRING_FREQUENCIES, "Custom")
RECURRING_STATUSES = ("Active", "Closed", "Overdue")
TRIBUTE_TYPES = ("InHonorOf", "InMemoryOf")
CUSTOM_FIELD_OBJECTS = ("Constituent", "Transaction", "Interaction", "Note", "Benevon")


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object of a request body, or 400."""
    raw = await request.body()
    if not raw.strip():
        raise bad_request("The request body is empty; a JSON object was expected.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


class Fields:
    """Typed access to one JSON object of a request (a body or a nested object in it)."""

    def __init__(self, data: Any, where: str = "") -> None:
        if not isinstance(data, dict):
            raise bad_request(f"{where or 'The body'} must be a JSON object.")
        self.data: dict[str, Any] = data
        self.where = where

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def _label(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def _value(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            raise bad_request(f"The {self._label(name)} field is required.")
        return value

    def text(self, name: str, *, required: bool = False, max_length: int = 255) -> str | None:
        """A string field; empty strings count as absent for required fields."""
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise bad_request(f"The {self._label(name)} field must be a string.")
        value = value.strip()
        if required and not value:
            raise bad_request(f"The {self._label(name)} field is required.")
        if len(value) > max_length:
            raise bad_request(f"The {self._label(name)} field must be at most {max_length} characters.")
        return value or None

    def choice(self, name: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        """One of ``allowed`` (matched exactly, as the document's enumerations are)."""
        value = self.text(name, required=required)
        options = tuple(allowed)
        if value is not None and value not in options:
            raise bad_request(
                f"'{value}' is not a valid {self._label(name)}; expected one of {', '.join(options)}."
            )
        return value

    def choices(self, name: str, allowed: Iterable[str]) -> list[str] | None:
        """A list of values out of ``allowed``."""
        value = self._value(name, False)
        if value is None:
            return None
        options = tuple(allowed)
        if not isinstance(value, list) or any(item not in options for item in value):
            raise bad_request(f"The {self._label(name)} field must be a list of {', '.join(options)}.")
        return list(dict.fromkeys(value))

    def integer(self, name: str, *, required: bool = False, minimum: int | None = None) -> int | None:
        """An integer field (ids are int64)."""
        value = self._value(name, required)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad_request(f"The {self._label(name)} field must be an integer.")
        if minimum is not None and value < minimum:
            raise bad_request(f"The {self._label(name)} field must be at least {minimum}.")
        return value

    def integers(self, name: str) -> list[int] | None:
        """A list of integers."""
        value = self._value(name, False)
        if value is None:
            return None
        if not isinstance(value, list) or any(
            not isinstance(item, int) or isinstance(item, bool) for item in value
        ):
            raise bad_request(f"The {self._label(name)} field must be a list of integers.")
        return list(dict.fromkeys(value))

    def amount(self, name: str, *, required: bool = False, positive: bool = False) -> float | None:
        """A currency amount, rounded to the cent."""
        value = self._value(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise bad_request(f"The {self._label(name)} field must be a number.")
        if positive and value <= 0:
            raise bad_request(f"The {self._label(name)} field must be greater than zero.")
        return round(float(value), 2)

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        """A true/false field."""
        value = self._value(name, required)
        if value is not None and not isinstance(value, bool):
            raise bad_request(f"The {self._label(name)} field must be true or false.")
        return value

    def date(self, name: str, *, required: bool = False) -> str | None:
        """A calendar date (``YYYY-MM-DD``; a date-time is cut to its date)."""
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            raise bad_request(f"'{value}' is not a valid date for {self._label(name)}.") from None

    def nested(self, name: str) -> Fields | None:
        """A nested object, or None when absent."""
        value = self._value(name, False)
        return None if value is None else Fields(value, self._label(name))

    def items(self, name: str) -> list[Fields] | None:
        """A list of nested objects, or None when absent."""
        value = self._value(name, False)
        if value is None:
            return None
        if not isinstance(value, list):
            raise bad_request(f"The {self._label(name)} field must be a list.")
        return [Fields(item, f"{self._label(name)}[{index}]") for index, item in enumerate(value)]

    def reference(self, name: str) -> int | None:
        """An id given as ``NameId`` or as ``Name: {"Id": ..}`` (the output shape)."""
        direct = self.integer(f"{name}Id")
        if direct is not None:
            return direct
        nested = self.nested(name)
        return None if nested is None else nested.integer("Id")
