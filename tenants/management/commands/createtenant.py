"""createtenant SLUG --name NAME --email EMAIL --password PW [--json]"""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants.models import ApiKey, Membership, Role, Tenant


class Command(BaseCommand):
    help = "Create a tenant with an owner user and an API key."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--json", action="store_true", help="print one JSON line")

    def handle(self, *args, **opts):
        User = get_user_model()
        if Tenant.objects.filter(slug=opts["slug"]).exists():
            raise CommandError(f"Tenant {opts['slug']!r} already exists.")
        if User.objects.filter(username=opts["email"]).exists():
            raise CommandError(f"User {opts['email']!r} already exists.")
        with transaction.atomic():
            tenant = Tenant.objects.create(
                slug=opts["slug"], name=opts["name"], timezone=opts["timezone"]
            )
            user = User.objects.create_user(
                username=opts["email"], email=opts["email"], password=opts["password"]
            )
            Membership.objects.create(user=user, tenant=tenant, role=Role.OWNER)
            _, raw = ApiKey.issue(tenant, "default")
        result = {"tenant": tenant.slug, "user": user.username, "api_key": raw}
        if opts["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"Tenant {tenant.slug} created. User {user.username}. API key: {raw}")
