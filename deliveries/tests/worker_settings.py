"""Settings of the Celery processes the integration tests start: the test settings, with a
broker queue of the test session's own, so runs sharing one Redis never take each other's
tasks (pytest-xdist workers, engineers running suites side by side)."""

import os

from config.settings.test import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["HUB_TEST_TASK_QUEUE"]
