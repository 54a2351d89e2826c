"""Benchmark settings: the product settings plus the ``bench`` app and its baseline URLs.

Every process of the benchmark stack (gunicorn, Celery worker and beat, the dispatcher) runs
with these settings, so the baselines are served by the very same server configuration as the
product paths, while ``config.urls`` stays free of benchmark views.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
# The benchmark's buyer listens on loopback.
HUB_ALLOW_PRIVATE_DESTINATIONS = True
