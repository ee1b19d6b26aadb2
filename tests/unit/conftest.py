"""Fixtures the pure tests share: the in-memory storage every pipeline test starts from."""

from __future__ import annotations

import pytest

from tests.fakes import InMemoryStorage


@pytest.fixture
def storage() -> InMemoryStorage:
    return InMemoryStorage()
