"""seed_calllogs N --tenant SLUG [--days 90] [--endpoints 12] [--seed 0]"""

import time

from django.core.management.base import BaseCommand, CommandError

from logs.seeding import seed
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Generate N realistic call logs for a tenant (COPY on PostgreSQL, bulk_create elsewhere)."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--days", type=int, default=90, help="spread rows over this many days")
        parser.add_argument(
            "--endpoints", type=int, default=12, help="endpoints to spread rows over"
        )
        parser.add_argument(
            "--seed", dest="random_seed", type=int, default=0, help="same seed, same rows"
        )

    def handle(self, *args, count, tenant, days, endpoints, random_seed, **opts):
        if count < 0 or days < 1 or endpoints < 1:
            raise CommandError("count must be >= 0, --days and --endpoints >= 1.")
        target = Tenant.objects.filter(slug=tenant).first()
        if target is None:
            raise CommandError(f"Tenant {tenant!r} does not exist.")
        started = time.perf_counter()
        written = seed(target, count, endpoints=endpoints, days=days, seed=random_seed)
        elapsed = time.perf_counter() - started
        rate = written / elapsed if elapsed else 0
        self.stdout.write(
            f"Wrote {written} call logs for {target.slug} in {elapsed:.1f}s ({rate:,.0f}/s)."
        )
