"""Settings shared by every environment; everything variable comes from the environment."""

from pathlib import Path

from .env import read

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = read("bool", "DEBUG", False)
SECRET_KEY = read("str", "SECRET_KEY", "dev-insecure-change-me-0123456789abcdefghijklmnop")
ALLOWED_HOSTS = read("list", "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = read("list", "CSRF_TRUSTED_ORIGINS", [])

DATABASES = {
    "default": read("dj_db_url", "DATABASE_URL", "sqlite:///" + str(BASE_DIR / "db.sqlite3"))
}
# Persistent connections: a new PostgreSQL connection per request costs more than the request.
DATABASES["default"]["CONN_MAX_AGE"] = read("int", "CONN_MAX_AGE", 60)
# Off by default: the check is a round trip per request; a connection broken by a database
# restart fails one request (503) and is then replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = read("bool", "CONN_HEALTH_CHECKS", False)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Parameters bound by PostgreSQL, not quoted into the SQL by psycopg, and statements
    # prepared after this many runs, so PostgreSQL stops planning them each time. Measured at
    # 200 leads/s end to end: p50 65 → 20 ms (a dispatcher claim alone: 0.42 → 0.15 ms). Turn
    # them off behind a pooler that cannot keep prepared statements (threshold 0); preparing
    # needs server-side binding.
    prepare_threshold = read("int", "HUB_DB_PREPARE_THRESHOLD", 5)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = prepare_threshold or None
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = read(
        "bool", "HUB_DB_SERVER_SIDE_BINDING", True
    )
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

REDIS_URL = read("str", "REDIS_URL", "") or None
# Outbound calls to loopback/private addresses: off unless DEBUG (or the embedded demo).
HUB_ALLOW_PRIVATE_DESTINATIONS = read("bool", "HUB_ALLOW_PRIVATE_DESTINATIONS", DEBUG)
# Runs the dispatcher and sender in a thread of the web process (the `make run` default).
HUB_EMBEDDED_ENGINE = read("bool", "HUB_EMBEDDED_ENGINE", False)
HUB_PUBLIC_URL = read("str", "HUB_PUBLIC_URL", "")
# How many reverse proxies in front of the hub to trust for X-Forwarded-For (IP allow lists).
HUB_TRUSTED_PROXIES = read("int", "HUB_TRUSTED_PROXIES", 0)
HUB_INBOUND_MAX_BYTES = read("int", "HUB_INBOUND_MAX_BYTES", 1024 * 1024)
HUB_RESPONSE_BODY_CAP = read("int", "HUB_RESPONSE_BODY_CAP", 64 * 1024)
# Fernet key(s) for secrets at rest; derived from SECRET_KEY when unset.
HUB_FIELD_ENCRYPTION_KEYS = read("list", "HUB_FIELD_ENCRYPTION_KEYS", [])
HUB_DELIVERY_BATCH_SIZE = read("int", "HUB_DELIVERY_BATCH_SIZE", 200)
# After a wakeup the dispatcher waits this long for more new deliveries before claiming.
HUB_DISPATCH_GATHER_MS = read("int", "HUB_DISPATCH_GATHER_MS", 10)
# Inbound group commit (inbound/batch.py): new leads of concurrent calls share a transaction.
HUB_INBOUND_BATCH_WRITER = read("bool", "HUB_INBOUND_BATCH_WRITER", True)
HUB_INBOUND_BATCH_SIZE = read("int", "HUB_INBOUND_BATCH_SIZE", 64)
# One writer: each batch is two round trips, and a second writer made smaller batches and one
# more thread competing for the GIL (1,426-1,447 against 1,604-1,624 leads/s in the bench).
HUB_INBOUND_BATCH_THREADS = read("int", "HUB_INBOUND_BATCH_THREADS", 1)
HUB_DELIVERY_LEASE_SECONDS = read("int", "HUB_DELIVERY_LEASE_SECONDS", 330)
HUB_ENDPOINT_CONCURRENCY = read("int", "HUB_ENDPOINT_CONCURRENCY", 32)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tenants",
    "leads",
    "adaptors",
    "endpoints",
    "logs",
    "deliveries",
    "inbound",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "inbound.middleware.HooksMiddleware",  # /hooks/<token> skips everything below
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/console/login/"

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = read("str", "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = read("str", "DEFAULT_FROM_EMAIL", "hub@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.auth.ApiKeyAuthentication",
        "tenants.auth.ConsoleSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.TenantRolePermission"],
    "DEFAULT_PAGINATION_CLASS": "tenants.api.pagination.HubPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "tenants.api.errors.exception_handler",
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Lead hub API",
    "DESCRIPTION": "Receive, route and deliver leads. Authenticate with `Authorization: Bearer <api key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EndpointMethodEnum": "endpoints.models.Method",
        "HandlerMethodEnum": "inbound.models.HandlerMethod",
        "EndpointContentTypeEnum": "endpoints.models.ContentType",
        "DeliveryStatusEnum": "deliveries.models.Status",
        "LeadStatusEnum": "leads.models.LeadStatus",
        "InboundCallStatusEnum": "logs.models.InboundStatus",
        "PreviewContentTypeEnum": "adaptors.render.CONTENT_TYPES",
        "PreviewMethodEnum": "adaptors.api.serializers.METHODS",
    },
}

# Celery: JSON only, ids in messages, late acks; PostgreSQL is the source of truth.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection around every task unless this is set:
# with one small send_batch per lead, reconnecting cost most of a core.
CELERY_DB_REUSE_MAX = read("int", "CELERY_DB_REUSE_MAX", 1000)
CELERY_BEAT_SCHEDULE = {
    "sweep-due-deliveries": {"task": "deliveries.sweep", "schedule": 5.0},
    "purge-old-logs": {"task": "logs.purge_expired", "schedule": 3600.0},
}

CACHES = (
    {
        "default": {
            "BACKEND": "tenants.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": read("str", "LOG_LEVEL", "INFO")},
    # httpx logs every request URL at INFO, query-string credentials included.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
