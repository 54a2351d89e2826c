"""Test settings: the real PostgreSQL and Redis of the machine, never SQLite."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("HUB_ALLOW_PRIVATE_DESTINATIONS", "true")

from .base import *  # noqa: E402,F403
from .base import DATABASES  # noqa: E402
from .env import read  # noqa: E402

if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise RuntimeError(
        "The test suite runs on PostgreSQL only; set DATABASE_URL to a postgres:// URL."
    )

DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks inline; integration tests start a real worker with HUB_TASKS_EAGER=0.
CELERY_TASK_ALWAYS_EAGER = read("bool", "HUB_TASKS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Each call's batch is written in the request thread: the writer thread's own connection
# could not see a test's uncommitted rows. tests/inbound cover the thread with real commits.
HUB_INBOUND_BATCH_WRITER = read("bool", "HUB_INBOUND_BATCH_WRITER", False)
