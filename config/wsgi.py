import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()

# With HUB_EMBEDDED_ENGINE on (no Redis), the dispatcher and sender run in this process.
from deliveries.dispatcher import start_embedded_engine  # noqa: E402

start_embedded_engine()
