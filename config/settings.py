"""Lightbox settings: everything comes from environment variables (12-factor).

Defaults are safe for development and run out of the box: PostgreSQL and Redis on
localhost, else the embedded ones under var/ (lightbox/services.py). Production sets at least SECRET_KEY,
DEBUG=0, ALLOWED_HOSTS and DATABASE_URL; `manage.py check --deploy` is clean then.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config import storage_settings
from config.env import (
    env_bool,
    env_choice,
    env_choice_list,
    env_float,
    env_int,
    env_json_object,
    env_list,
    env_str,
    env_tiers,
)
from lightbox import services
from processing.provisioning import KNOWN_MODELS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LIGHTBOX_VAR_DIR", str(BASE_DIR / "var")))

# pytest sets PYTEST_VERSION for the whole run (pytest >= 8.2).
TESTING = "PYTEST_VERSION" in os.environ

# Off unless asked for: the development command (`make run`, bin/run) and the Makefile's
# targets set DEBUG=1, the test suite is development too. Anything else is production.
DEBUG = env_bool("DEBUG", default=TESTING)

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: S105 (refused when DEBUG is off)
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off (production): the development key is public. "
        "Set SECRET_KEY to a long random value, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'; "
        "for development run `make run` (bin/run), which sets DEBUG=1"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.apps.LightboxAdminConfig",  # django.contrib.admin for the Admin role only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_rq",
    "ninja",
    "catalog",
    "catalog.exports",
    "catalog.shopify",
    "catalog.webhooks",
    "catalog.api",
    "processing",
    "review",
    "insights",
    "operations",
]

MIDDLEWARE = [
    "operations.middleware.HealthCheckMiddleware",  # /healthz before host checks and sessions
    "django.middleware.security.SecurityMiddleware",
    "lightbox.csp.FileOriginsCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "lightbox.access.admin_context",
            ],
        },
    },
]

# DATABASE_URL, else the embedded PostgreSQL while it runs, else one on 127.0.0.1:5432, else the
# embedded one `make run` starts (lightbox/services.py); likewise for the queue below.
LIGHTBOX_DATABASE_SERVICE = services.choose_database(VAR_DIR, os.environ)
DATABASES = {
    "default": dj_database_url.parse(
        LIGHTBOX_DATABASE_SERVICE.url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…)")
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_lightbox")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    # Hashing at full strength makes every login in the suite cost ~0.3 s of CPU.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:product_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise warns on every start when the folder is missing (before collectstatic).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Local disk, or S3-compatible buckets every machine shares (config/storage_settings.py).
LIGHTBOX_STORAGE = storage_settings.storage_kind()
LIGHTBOX_SIGNED_URL_SECONDS = storage_settings.signed_url_seconds()
STORAGES = {
    **storage_settings.file_storages(),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
LIGHTBOX_MAX_UPLOAD_BYTES = env_int("LIGHTBOX_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1)
LIGHTBOX_MAX_ARCHIVE_BYTES = env_int("LIGHTBOX_MAX_ARCHIVE_BYTES", 4 * 1024**3, minimum=1)

# --- Security (production values are the defaults when DEBUG is off) -------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)

# --- Queues -------------------------------------------------------------------
# Tests get their own Redis database so a run never touches a developer's queues.
LIGHTBOX_QUEUE_SERVICE = services.choose_queue(VAR_DIR, os.environ, testing=TESTING)
REDIS_URL = LIGHTBOX_QUEUE_SERVICE.url
RQ_JOB_TIMEOUT = env_int("RQ_JOB_TIMEOUT", 600, minimum=10)
# `interactive` is work someone is waiting for (renders after a review decision, exports,
# webhook deliveries); the other three carry bulk processing by batch priority. Workers
# listen to all four in this order (processing.worker explains the fair share).
INTERACTIVE_QUEUE = "interactive"
QUEUE_NAMES = (INTERACTIVE_QUEUE, "high", "default", "low")
RQ_QUEUES = {
    name: {
        "URL": REDIS_URL,
        "DEFAULT_TIMEOUT": RQ_JOB_TIMEOUT,
        # Pickle on a shared Redis is remote code execution; ids are all we send.
        "SERIALIZER": "rq.serializers.JSONSerializer",
    }
    for name in QUEUE_NAMES
}
RQ = {
    "COMMIT_MODE": "on_db_commit",
    "WORKER_CLASS": "processing.worker.LightboxWorker",
}
RQ_SHOW_ADMIN_LINK = True

# --- Segmentation model ------------------------------------------------------------
# Always name the model: rembg's own default is a 1 GB non-commercial one.
LIGHTBOX_MODEL_NAME = env_str("LIGHTBOX_MODEL_NAME", "u2netp")
# The stronger, slower model a photo the first one cut out badly gets a second try with;
# empty turns that cascade off. Only models `provision_model` can install: `make install`
# puts every one of them in place. Off by default where the first model is already u2net.
LIGHTBOX_CASCADE_MODEL = env_choice(
    "LIGHTBOX_CASCADE_MODEL", "" if LIGHTBOX_MODEL_NAME == "u2net" else "u2net", {"", *KNOWN_MODELS}
)
if LIGHTBOX_CASCADE_MODEL and LIGHTBOX_CASCADE_MODEL == LIGHTBOX_MODEL_NAME:
    raise ImproperlyConfigured(
        f"LIGHTBOX_CASCADE_MODEL is {LIGHTBOX_CASCADE_MODEL!r}, the model every photo already goes "
        "through (LIGHTBOX_MODEL_NAME); name a stronger one, or leave it empty to turn the cascade off"
    )
LIGHTBOX_MODEL_DIR = Path(env_str("U2NET_HOME", str(VAR_DIR / "models")))
# rembg reads U2NET_HOME itself; keep it in step with our setting for every process.
os.environ["U2NET_HOME"] = str(LIGHTBOX_MODEL_DIR)
LIGHTBOX_ONNX_PROVIDERS = env_choice_list(
    "LIGHTBOX_ONNX_PROVIDERS",
    ["CUDAExecutionProvider", "CPUExecutionProvider"],
    {
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
        "ROCMExecutionProvider",
        "OpenVINOExecutionProvider",
        "TensorrtExecutionProvider",
    },
)
# Worker processes on this machine (deploy/bin/install-workers starts that many). With
# LIGHTBOX_ONNX_THREADS=0 each worker's ONNX Runtime takes an equal share of the cores,
# so N workers never run N × cores inference threads.
LIGHTBOX_WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 1, minimum=1)
LIGHTBOX_ONNX_THREADS = env_int("LIGHTBOX_ONNX_THREADS", 0, minimum=0)

# --- Processing ----------------------------------------------------------------
# Versions stuck in QUEUED/PROCESSING longer than this are re-enqueued by the sweeper.
LIGHTBOX_STALE_AFTER_SECONDS = env_int("LIGHTBOX_STALE_AFTER_SECONDS", RQ_JOB_TIMEOUT + 120, minimum=30)
LIGHTBOX_MAX_ATTEMPTS = env_int("LIGHTBOX_MAX_ATTEMPTS", 4, minimum=1)
# An outage (database, Redis, disk) is retried on its own: first after this many seconds,
# the wait doubling up to the maximum, and the version fails only after so many outages.
LIGHTBOX_OUTAGE_RETRY_SECONDS = env_int("LIGHTBOX_OUTAGE_RETRY_SECONDS", 120, minimum=1)
LIGHTBOX_OUTAGE_RETRY_MAX_SECONDS = env_int("LIGHTBOX_OUTAGE_RETRY_MAX_SECONDS", 3600, minimum=1)
LIGHTBOX_OUTAGE_MAX_RETRIES = env_int("LIGHTBOX_OUTAGE_MAX_RETRIES", 30, minimum=1)
# Fair scheduling: one job in this many is taken from the lower bulk queues first, so
# back-catalog work moves while Launch batches keep coming (processing.worker).
LIGHTBOX_FAIR_SHARE_EVERY = env_int("LIGHTBOX_FAIR_SHARE_EVERY", 4, minimum=2)
# Per-user rate limits (fixed one-minute windows in Redis): files uploaded, API requests.
LIGHTBOX_UPLOAD_RATE_PER_MINUTE = env_int("LIGHTBOX_UPLOAD_RATE_PER_MINUTE", 600, minimum=1)
LIGHTBOX_API_RATE_PER_MINUTE = env_int("LIGHTBOX_API_RATE_PER_MINUTE", 1200, minimum=1)
# A browser batch that no file reached for this long (the tab was closed mid-upload) is
# closed by the sweeper with what it has, so it completes and `batch.completed` is sent.
LIGHTBOX_BATCH_IDLE_SECONDS = env_int("LIGHTBOX_BATCH_IDLE_SECONDS", 3600, minimum=60)
# Photos are decoded at most this large for processing (bounds worker memory on 60 MP
# inputs); the largest seeded canvas is 2600 px.
LIGHTBOX_WORKING_LONG_SIDE = env_int("LIGHTBOX_WORKING_LONG_SIDE", 3000, minimum=256)
# Quality-gate defaults, e.g. LIGHTBOX_QUALITY_THRESHOLDS='{"pass_score": 75}'; overridden
# per category in the admin. Unknown keys stop start-up at the first job (and in `check`).
LIGHTBOX_QUALITY_THRESHOLDS = env_json_object("LIGHTBOX_QUALITY_THRESHOLDS", {})
# --- Review ------------------------------------------------------------------------
# How long a reviewer holds a claimed item before another reviewer may take it over.
LIGHTBOX_REVIEW_CLAIM_SECONDS = env_int("LIGHTBOX_REVIEW_CLAIM_SECONDS", 300, minimum=10)
LIGHTBOX_CPU_SECOND_PRICE = env_float("LIGHTBOX_CPU_SECOND_PRICE", 0.000011, minimum=0)
LIGHTBOX_GPU_SECOND_PRICE = env_float("LIGHTBOX_GPU_SECOND_PRICE", 0.00035, minimum=0)
# Volume discounts on compute: "0:1.0,10000:0.8" prices the first 10,000 versions finished in a
# calendar month at the list price and the rest of that month at 80% (insights.kpis.cost_per_volume_tier).
LIGHTBOX_VOLUME_TIERS = env_tiers("LIGHTBOX_VOLUME_TIERS", "0:1.0")
# The dashboard shows an alert banner past either limit: jobs waiting over all queues,
# and failed jobs as a share of the versions queued in the shown range.
LIGHTBOX_ALERT_BACKLOG = env_int("LIGHTBOX_ALERT_BACKLOG", 1000, minimum=1)
LIGHTBOX_ALERT_FAILURE_RATE = env_float("LIGHTBOX_ALERT_FAILURE_RATE", 0.05, minimum=0)

# Where marketplaces and CDNs fetch renditions from: every export writes URLs under it.
# Point it at a CDN that forwards /i/ to this app, or at the app's own public address.
LIGHTBOX_PUBLIC_BASE_URL = env_str("LIGHTBOX_PUBLIC_BASE_URL", "http://localhost:8000")

# Fernet keys for stored secrets (Shopify token, webhook secrets), newest first; see catalog/crypto.py.
# Make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
LIGHTBOX_ENCRYPTION_KEYS = env_list("LIGHTBOX_ENCRYPTION_KEYS", [])
if not DEBUG and not LIGHTBOX_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "LIGHTBOX_ENCRYPTION_KEYS must be set when DEBUG is off (production): stored secrets (Shopify "
        "token, webhook secrets) would otherwise be encrypted with a key derived from SECRET_KEY. "
        "Make one with "
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )
for _key in LIGHTBOX_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "LIGHTBOX_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)"
        ) from None

# Outbound HTTP (URL import, webhooks, Shopify) refuses every non-global address. Networks listed
# here (CIDR, comma-separated) are let through anyway: for a test double on loopback, or an
# internal system you trust. Empty in production.
LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = env_list("LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS", [])
for _cidr in LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS holds {_cidr!r}, which is not a network like 10.1.0.0/16"
        ) from None
# Import from a URL (catalog/intake/url_import.py): the most it downloads (then it is an upload like
# any other, so the upload limit applies) and the total seconds one fetch may take, redirects included.
LIGHTBOX_URL_IMPORT_MAX_BYTES = env_int("LIGHTBOX_URL_IMPORT_MAX_BYTES", LIGHTBOX_MAX_UPLOAD_BYTES, minimum=1)
LIGHTBOX_URL_IMPORT_TIMEOUT = env_float("LIGHTBOX_URL_IMPORT_TIMEOUT", 20.0, minimum=1)

# Shopify Admin GraphQL API (catalog/shopify): the version new connections use, a stable quarterly
# release YYYY-MM (2026-10 was the newest when written; Shopify supports each for at least a year),
# the endpoint (tests point it at a fake on loopback), and how long a push waits for Shopify to
# finish processing one product's new media.
LIGHTBOX_SHOPIFY_API_VERSION = env_str("LIGHTBOX_SHOPIFY_API_VERSION", "2026-10")
LIGHTBOX_SHOPIFY_API_URL_TEMPLATE = env_str(
    "LIGHTBOX_SHOPIFY_API_URL_TEMPLATE", "https://{shop}/admin/api/{version}/graphql.json"
)
LIGHTBOX_SHOPIFY_MEDIA_WAIT_SECONDS = env_int("LIGHTBOX_SHOPIFY_MEDIA_WAIT_SECONDS", 120, minimum=1)
_year, _, _month = LIGHTBOX_SHOPIFY_API_VERSION.partition("-")
if not (len(_year) == 4 and _year.isdigit() and _month in {"01", "04", "07", "10"}):
    raise ImproperlyConfigured(
        f"LIGHTBOX_SHOPIFY_API_VERSION must be a release like 2026-10, not {LIGHTBOX_SHOPIFY_API_VERSION!r}"
    )
if "{shop}" not in LIGHTBOX_SHOPIFY_API_URL_TEMPLATE or "{version}" not in LIGHTBOX_SHOPIFY_API_URL_TEMPLATE:
    raise ImproperlyConfigured("LIGHTBOX_SHOPIFY_API_URL_TEMPLATE must contain {shop} and {version}")

# --- Webhooks (catalog/webhooks) -----------------------------------------------------
# An endpoint is switched off after this many failed attempts in a row (over all its deliveries),
# or once every attempt has failed for this many days; its creator and ADMINS get an email.
LIGHTBOX_WEBHOOK_DISABLE_AFTER_FAILURES = env_int("LIGHTBOX_WEBHOOK_DISABLE_AFTER_FAILURES", 50, minimum=1)
LIGHTBOX_WEBHOOK_DISABLE_AFTER_DAYS = env_int("LIGHTBOX_WEBHOOK_DISABLE_AFTER_DAYS", 5, minimum=1)
LIGHTBOX_WEBHOOK_TIMEOUT_SECONDS = env_float("LIGHTBOX_WEBHOOK_TIMEOUT_SECONDS", 15.0, minimum=1)
# After a rotation the old secret keeps signing (two signatures) for this long.
LIGHTBOX_WEBHOOK_SECRET_OVERLAP_HOURS = env_int("LIGHTBOX_WEBHOOK_SECRET_OVERLAP_HOURS", 24, minimum=0)
# Links in webhook payloads point here (the app itself, not a CDN that serves only /i/).
LIGHTBOX_APP_BASE_URL = env_str("LIGHTBOX_APP_BASE_URL", LIGHTBOX_PUBLIC_BASE_URL)
ADMINS = [("Lightbox admins", address) for address in env_list("LIGHTBOX_ADMIN_EMAILS", [])]
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "lightbox@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# One line per event; inside a job every line names the job, version, batch and worker
# (lightbox.joblog). LIGHTBOX_LOG_FORMAT=json writes one JSON object a line instead.
LIGHTBOX_LOG_FORMAT = env_choice("LIGHTBOX_LOG_FORMAT", "plain", {"plain", "json"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"job_context": {"()": "lightbox.joblog.JobContextFilter"}},
    "formatters": {
        "plain": {
            "()": "lightbox.joblog.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "lightbox.joblog.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LIGHTBOX_LOG_FORMAT,
            "filters": ["job_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"rq.worker": {"level": env_str("RQ_LOG_LEVEL", "INFO")}},
}

# --- Operations (operations/): /healthz, /metrics, alerts ------------------------------
# /metrics answers a scraper that sends `Authorization: Bearer <LIGHTBOX_METRICS_TOKEN>`, or
# one calling from LIGHTBOX_METRICS_ALLOWED_NETWORKS (CIDRs, matched against REMOTE_ADDR: behind
# a reverse proxy on the same host that is the proxy, so prefer the token there). Loopback by
# default in development, nobody without a token in production.
LIGHTBOX_METRICS_TOKEN = env_str("LIGHTBOX_METRICS_TOKEN", "")
LIGHTBOX_METRICS_ALLOWED_NETWORKS = env_list(
    "LIGHTBOX_METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"] if DEBUG else []
)
for _cidr in LIGHTBOX_METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"LIGHTBOX_METRICS_ALLOWED_NETWORKS holds {_cidr!r}, which is not a network like 10.1.0.0/16"
        ) from None
LIGHTBOX_METRICS_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(_cidr, strict=False)) for _cidr in LIGHTBOX_METRICS_ALLOWED_NETWORKS
]
# Alerts (operations.alerts), checked after every sweep; LIGHTBOX_ALERT_BACKLOG and
# LIGHTBOX_ALERT_FAILURE_RATE above are shared with the dashboard's banner. The failure rate
# is measured over versions finished in the last LIGHTBOX_ALERT_WINDOW_MINUTES; a category's
# pass rate drifts when this week's is LIGHTBOX_ALERT_DRIFT_DROP (absolute) below its four
# weeks before. Neither rate is judged on fewer than LIGHTBOX_ALERT_MIN_VERSIONS versions.
LIGHTBOX_ALERT_WINDOW_MINUTES = env_int("LIGHTBOX_ALERT_WINDOW_MINUTES", 60, minimum=5)
LIGHTBOX_ALERT_DRIFT_DROP = env_float("LIGHTBOX_ALERT_DRIFT_DROP", 0.15, minimum=0.01)
LIGHTBOX_ALERT_MIN_VERSIONS = env_int("LIGHTBOX_ALERT_MIN_VERSIONS", 20, minimum=1)
EMAIL_SUBJECT_PREFIX = env_str("EMAIL_SUBJECT_PREFIX", "[Lightbox] ")
# SMTP, for EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- Login throttling (lightbox/login_throttle.py) --------------------------------------
LIGHTBOX_LOGIN_MAX_FAILURES = env_int("LIGHTBOX_LOGIN_MAX_FAILURES", 5, minimum=1)
LIGHTBOX_LOGIN_MAX_FAILURES_PER_IP = env_int("LIGHTBOX_LOGIN_MAX_FAILURES_PER_IP", 50, minimum=1)
LIGHTBOX_LOGIN_LOCKOUT_SECONDS = env_int("LIGHTBOX_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)

# --- Content Security Policy (django-csp) -----------------------------------------------
# Scripts and styles from this site's static files only: no inline <script>, no on…=
# attributes, no style= (htmx's own indicator style is turned off in base.html). Images may
# also come from where renditions are served (LIGHTBOX_PUBLIC_BASE_URL), an absolute
# MEDIA_URL's origin, and any origin in LIGHTBOX_CSP_IMG_SOURCES (a bucket or CDN, comma-separated).
LIGHTBOX_CSP_IMG_SOURCES = env_list("LIGHTBOX_CSP_IMG_SOURCES", [])
_public_origin = "/".join(LIGHTBOX_PUBLIC_BASE_URL.split("/")[:3])
# Storage that serves files from elsewhere (a bucket, a CDN) names it in an absolute MEDIA_URL.
_media_origins = ["/".join(str(MEDIA_URL).split("/")[:3])] if str(MEDIA_URL).startswith("http") else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", _public_origin, *_media_origins, *LIGHTBOX_CSP_IMG_SOURCES],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
