"""Satu settings: every value comes from the environment, with safe defaults.

`DATABASE_URL` picks the database (`sqlite:///var/satu.sqlite3` by default,
`postgres://user@host:port/name` for production). `SATU_DEBUG=1` turns on
debug mode; it is off unless asked for.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SATU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(int(default))).lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """From SATU_SECRET_KEY, else generated once and kept in var/ (embedded mode)."""
    if key := os.environ.get("SATU_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("SATU_DEBUG")
ALLOWED_HOSTS = os.environ.get(
    "SATU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver"
).split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("SATU_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "satu.core",
    "satu.parties",
    "satu.crm",
    "satu.catalog",
    "satu.inventory",
    "satu.billing",
    "satu.sales",
    "satu.purchasing",
    "satu.api",
    "satu.web",
    "satu.demo",
]

MIDDLEWARE = [
    "satu.core.access_log.AccessLogMiddleware",
    "satu.core.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "satu.core.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "satu.web.middleware.LoginRequiredMiddleware",
    "satu.api.middleware.RejectNulMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "satu.web.context_processors.navigation",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'satu.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend with cached placeholder conversion (satu/core/backends).
    DATABASES["default"]["ENGINE"] = "satu.core.backends.sqlite3"
    # Tests in memory, as Django does for its own SQLite engine name (which
    # pytest-django recognises by that name only).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;"
        ),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": os.environ.get("SATU_PG_SERVER_BINDING", "1") == "1",
        "prepare_threshold": int(os.environ.get("SATU_PG_PREPARE", "5")) or None,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ATOMIC_REQUESTS = False

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed logins per username and per client address within the window.
SATU_LOGIN_MAX_FAILURES = int(os.environ.get("SATU_LOGIN_MAX_FAILURES", "5"))
SATU_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("SATU_LOGIN_LOCKOUT_SECONDS", "900"))

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SATU_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Public lead forms embedded in an iframe on another site (HTTPS only): the
# CSRF cookie must then travel cross-site, which browsers allow only for a
# SameSite=None; Secure cookie. The token check itself stays on.
if env_bool("SATU_EMBED_FORMS"):
    CSRF_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SECURE = True
# Spam throttle of the public lead forms: submissions per address per window.
SATU_LEAD_FORM_LIMIT = int(os.environ.get("SATU_LEAD_FORM_LIMIT", "5"))
SATU_LEAD_FORM_WINDOW = int(os.environ.get("SATU_LEAD_FORM_WINDOW", "600"))
X_FRAME_OPTIONS = "DENY"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "satu_cache",
    }
}
if redis_url := os.environ.get("REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
    }

TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "SATU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"
        )
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("id", _("Indonesian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("SATU_TIME_ZONE", "Asia/Jakarta")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise warns about a missing root; finders serve the files until collectstatic.
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("SATU_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {
        "BACKEND": os.environ.get(
            "SATU_FILE_STORAGE", "django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SATU_ATTACHMENT_MAX_BYTES = int(
    os.environ.get("SATU_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
)
SATU_ATTACHMENT_TYPES = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/msword",
    "application/vnd.ms-excel",
    "application/zip",
    # Call recordings (CRM interactions).
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
]
SATU_IMPORT_MAX_BYTES = int(os.environ.get("SATU_IMPORT_MAX_BYTES", 10 * 1024 * 1024))
SATU_IMPORT_MAX_ROWS = int(os.environ.get("SATU_IMPORT_MAX_ROWS", "50000"))
SATU_IMPORT_PREVIEW_ROWS = int(os.environ.get("SATU_IMPORT_PREVIEW_ROWS", "500"))

EMAIL_BACKEND = os.environ.get(
    "SATU_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("SATU_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("SATU_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("SATU_FROM_EMAIL", "satu@localhost")

NINJA_PAGINATION_PER_PAGE = 50
# `@ninja.pagination.paginate` in any router answers {items, count, next}.
NINJA_PAGINATION_CLASS = "satu.api.pagination.PagePagination"
NINJA_MAX_PER_PAGE_SIZE = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "satu.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("SATU_LOG_LEVEL", "INFO"),
    },
    "loggers": {
        # Through the root JSON handler only (Django's own console handler
        # would print the same lines again in plain text under DEBUG).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "waitress.queue": {"level": "ERROR"},
        # WeasyPrint and fontTools narrate every layout step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
