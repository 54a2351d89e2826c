"""The base fixture: two tenants (A with owner/admin/viewer, B with an admin) and an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from tenants.models import Role, Tenant
from tests.factories import TenantFactory, UserFactory, api_key, member


@dataclass
class World:
    a: Tenant
    b: Tenant
    api_a: APIClient  # admin key of tenant A
    api_a_viewer: APIClient  # viewer key of tenant A
    api_b: APIClient  # admin key of tenant B
    anonymous: APIClient
    owner_a: object
    viewer_a: object
    admin_b: object
    outsider: object  # a user with no tenant


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def world(db) -> World:
    a = TenantFactory(slug="acme", name="Acme Leads")
    b = TenantFactory(slug="bravo", name="Bravo Media")
    return World(
        a=a,
        b=b,
        api_a=_client(api_key(a)),
        api_a_viewer=_client(api_key(a, Role.VIEWER)),
        api_b=_client(api_key(b)),
        anonymous=APIClient(),
        owner_a=member(a, Role.OWNER),
        viewer_a=member(a, Role.VIEWER),
        admin_b=member(b, Role.ADMIN),
        outsider=UserFactory(),
    )
