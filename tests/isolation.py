"""One mixin gives every tenant-scoped API resource its isolation and role tests.

Declare ``url`` (the list URL), ``make(tenant)`` returning an object of that tenant and
``payload(world)`` returning a valid create body for tenant A.
"""

from __future__ import annotations


class TenantIsolationCases:
    url: str = ""
    writable: bool = True

    def make(self, tenant):  # pragma: no cover - each resource provides it
        raise NotImplementedError

    def payload(self, world) -> dict:  # pragma: no cover
        raise NotImplementedError

    def test_other_tenant_gets_404_for_detail(self, world):
        obj = self.make(world.a)
        assert world.api_b.get(f"{self.url}{obj.pk}/").status_code == 404
        assert world.api_a.get(f"{self.url}{obj.pk}/").status_code == 200

    def test_other_tenant_never_sees_it_in_a_list(self, world):
        obj = self.make(world.a)
        ids_b = [row["id"] for row in world.api_b.get(self.url).json()["results"]]
        ids_a = [row["id"] for row in world.api_a.get(self.url).json()["results"]]
        assert obj.pk not in ids_b
        assert obj.pk in ids_a

    def test_other_tenant_cannot_change_or_delete_it(self, world):
        if not self.writable:
            return
        obj = self.make(world.a)
        assert world.api_b.patch(f"{self.url}{obj.pk}/", {}, format="json").status_code == 404
        assert world.api_b.delete(f"{self.url}{obj.pk}/").status_code == 404
        assert type(obj).objects.filter(pk=obj.pk).exists()

    def test_viewer_can_read_but_not_write(self, world):
        obj = self.make(world.a)
        assert world.api_a_viewer.get(f"{self.url}{obj.pk}/").status_code == 200
        if not self.writable:
            return
        assert (
            world.api_a_viewer.post(self.url, self.payload(world), format="json").status_code == 403
        )
        assert world.api_a_viewer.delete(f"{self.url}{obj.pk}/").status_code == 403

    def test_admin_can_create(self, world):
        if not self.writable:
            return
        response = world.api_a.post(self.url, self.payload(world), format="json")
        assert response.status_code == 201, response.content

    def test_anonymous_is_refused(self, world):
        assert world.anonymous.get(self.url).status_code in (401, 403)
