"""Fixtures shared by the engine tests: a local buyer and a fresh per-process engine."""

import pytest

from deliveries.engine import shutdown_engine

from .receiver import Receiver


@pytest.fixture
def receiver():
    """A local HTTP buyer recording every request (test_integration uses a module-wide one)."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def fresh_engine():
    """This process's engine started anew for the test and drained after it."""
    shutdown_engine()
    yield
    shutdown_engine(timeout=5)
