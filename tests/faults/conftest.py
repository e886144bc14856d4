"""Fault tests: a real component fails in the middle of real work (docs in each module).

They reuse the notices app's fixtures for cards that fall due."""

from tests.notices.conftest import card_expiring, certificate_on

__all__ = ["card_expiring", "certificate_on"]
