"""Seeding an org from a preset name: ``npsp`` or ``customer-success``."""

from __future__ import annotations

from .org import Org
from .seed import PRESETS, seed_npsp
from .seed_cs import seed_customer_success


def seed_preset(org: Org, preset: str, records: int, seed: int = 1) -> dict[str, int]:
    """Replace the org's records with preset ``preset`` of about ``records`` records."""
    if preset == "customer-success":
        return seed_customer_success(org, records, seed)
    if preset == "npsp":
        return seed_npsp(org, records, seed)
    raise ValueError(f"unknown seed preset {preset!r}; known: {', '.join(PRESETS)}")
