"""Fixtures shared by the cross-app security tests."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from deliveries.engine import shutdown_engine
from endpoints import ssrf


class FakeDNS:
    """Names resolve only through ``table`` (the guard's resolver seam); every lookup is kept.

    A name missing from the table fails like NXDOMAIN, so no test ever sends a real DNS query.
    """

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[tuple]:
        self.lookups.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        rows = []
        for ip in self.table[host]:
            v6 = ":" in ip
            rows.append(
                (
                    socket.AF_INET6 if v6 else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port, 0, 0) if v6 else (ip, port),
                )
            )
        return rows


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDNS:
    dns = FakeDNS()
    monkeypatch.setattr(ssrf, "_system_getaddrinfo", dns)
    return dns


@pytest.fixture
def owner(world) -> Client:
    """Tenant A's owner, logged in to the console."""
    client = Client()
    client.force_login(world.owner_a)
    return client


@pytest.fixture
def fresh_engine():
    """This process's delivery engine, started fresh for the test and stopped after it."""
    shutdown_engine()
    yield
    shutdown_engine(timeout=5)
