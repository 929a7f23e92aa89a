"""Settings for the partner benefits portal, read from the environment.

Every variable is documented in `.env.example`. The helpers below are strict: a value they can't
read stops the start-up with a message naming the variable, rather than falling back silently.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")
# Test processes side by side (pytest-xdist names each: gw0, gw1...) keep their own files and,
# below, their own Redis database, as pytest-django gives each its own test database. The
# Celery workers the tests start inherit the name, and so find the same ones.
TEST_PROCESS = os.environ.get("PYTEST_XDIST_WORKER", "")
if TEST_PROCESS and not os.environ.get("VAR_DIR"):
    VAR_DIR = VAR_DIR / TEST_PROCESS
    VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_str(name, default=None):
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name, default=False):
    value = env_str(name)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    if value.lower() in ("false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name, default):
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name, default=()):
    value = env_str(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth's sessions page
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.usersessions",  # knows each account's sessions, so they can be ended
    "allauth.mfa",
    # Sign-in with Microsoft Entra ID, through its OpenID Connect endpoint (accounts.entra).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_htmx",
    "csp",
    "phonenumber_field",
    "benefits_portal.apps.CoreConfig",
    "accounts",
    "entitlements",
    "activation",
    "support",
    "cases",
    "software",
    "cancellations",
    "cloud",
    "devtools",
    "marketing",
    "customers",
    "api",
    # Its reference page's scripts, served from here, not a CDN.
    "ninja",
    "audit",
    "notices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Signed-out pages compressed (static files come compressed from WhiteNoise, above); a
    # signed-in page holds secrets (revealed IDs) beside text a link can put there: BREACH.
    "benefits_portal.middleware.SignedOutGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "benefits_portal.middleware.RemoveSlashMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "benefits_portal.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SignedOutReasonMiddleware",
    # A signed-in account's own language, over the browser's and the cookie's. After the one
    # above, which must be the first to read the user (reading it ends a stale session).
    "accounts.language.AccountLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.RequireTwoFactorMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "api.middleware.ApiResponseMiddleware",
]

ROOT_URLCONF = "benefits_portal.urls"
WSGI_APPLICATION = "benefits_portal.wsgi.application"

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
                "benefits_portal.context_processors.frame_links",
                "entitlements.context_processors.capabilities",
                "notices.context_processors.unread_notices",
            ],
        },
    },
]

# Databases: a SQLite file under var/ unless DATABASE_URL names a server.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# One request, one transaction: a view that fails half-way leaves nothing behind.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Behind a pooler in transaction mode (PgBouncer), whose server sessions serve any client's
# next transaction: no server-side cursors (README, "Production").
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DISABLE_SERVER_SIDE_CURSORS")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database too: threads and a Celery worker share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}
    # Several processes (web, worker, beat) share the file; wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and TEST_PROCESS:
    # gw0 keeps the database REDIS_URL names, gw1 the next one, and so on.
    _redis = urlsplit(REDIS_URL)
    _db = int(_redis.path.strip("/") or 0) + int(TEST_PROCESS.removeprefix("gw"))
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_db}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is away must not hold a request for long: callers render instead.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Without Redis, a table in the database: every process (web workers, Celery) shares it,
    # so one-time codes are used once and sign-in limits hold whatever process answers.
    # The table is made by benefits_portal's migrations.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
            # Never culled: culling deletes the first third of the keys, and "this code was
            # used" markers sort first. Expired rows go hourly (benefits_portal.tasks).
            "OPTIONS": {"MAX_ENTRIES": 2**62},
        }
    }
# How long the Technical benefits, rendered, may be reused (entitlements.benefits_cache); any
# change to what they show is seen at once all the same. 0 renders them every time.
TECHNICAL_BENEFITS_CACHE_SECONDS = env_int("TECHNICAL_BENEFITS_CACHE_SECONDS", 300)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.PortalBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts: sign-in by email; nobody signs themselves up (see accounts.adapter).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Accounts are made by a company's admins or by support staff, who vouch for the address (it
# is stored verified); any address added later must be verified, by a code sent to it.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
# Changing the sign-in email (add, remove, make primary) asks for the password again, so a
# stolen session cookie alone can't take the account over.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# An address added to an account is added only once a code sent to it has been typed back:
# the only way allauth lets an account with two-factor authentication add one.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_FORMS = {
    "confirm_email_verification_code": "accounts.forms.ConfirmEmailVerificationCodeForm"
}
# Every change of a credential (password, email addresses, two-factor) is emailed to the
# account; an email change also to the old address. accounts.signals writes them to the
# company's audit log.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Behind reverse proxies, how many of them add to X-Forwarded-For; the client's address is
# the one the outermost of them saw. 0 (the default): REMOTE_ADDR, and the header is ignored,
# since a client can send it itself. Used by sign-in limits and the portal's own limits.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Two-factor authentication: an authenticator app, with recovery codes. Required for the roles
# permissions.py says and for support staff; see accounts.middleware.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# The code fields accept full-width digits, as typed with a Japanese or Chinese IME.
MFA_FORMS = {
    "authenticate": "accounts.forms.AuthenticateForm",
    "reauthenticate": "accounts.forms.ReauthenticateForm",
    "activate_totp": "accounts.forms.ActivateTOTPForm",
}
MFA_TOTP_ISSUER = "Partner benefits"
# Sign-in with Microsoft Entra ID: one app registration for the whole portal (a multi-tenant
# app), offered on the sign-in page only when its client ID is set. Which tenants may sign in
# is each company's choice (Account settings → Sign-in); accounts.entra holds the rules.
ENTRA_SERVER_URL = env_str(
    "ENTRA_SERVER_URL", "https://login.microsoftonline.com/organizations/v2.0"
)
ENTRA_CLIENT_ID = env_str("ENTRA_CLIENT_ID", "")
ENTRA_CLIENT_SECRET = env_str("ENTRA_CLIENT_SECRET", "")
ENTRA_PROVIDER_ID = "entra"


def entra_apps(server_url, client_id, secret):
    """allauth's OpenID Connect app for Microsoft Entra ID, or none when not configured."""
    if not client_id:
        return []
    return [
        {
            "provider_id": ENTRA_PROVIDER_ID,
            "name": "Microsoft Entra ID",
            "client_id": client_id,
            "secret": secret,
            "settings": {
                "server_url": server_url,
                # The claims that decide (tid, groups, amr) are read from the ID token, which
                # came straight from the token endpoint; the userinfo endpoint lacks them.
                "fetch_userinfo": False,
            },
        }
    ]


SOCIALACCOUNT_ADAPTER = "accounts.entra.EntraAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "APPS": entra_apps(ENTRA_SERVER_URL, ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET),
        "OAUTH_PKCE_ENABLED": True,
    }
}
# A person of a connected tenant without an account gets one at once, in that company; an
# address the directory vouches for needs no code sent to it.
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_REQUIRED = True
# Never sign in to, or link, an existing account because an address matches: see accounts.entra.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_STORE_TOKENS = False
# The sign-in page's button posts; a GET only shows allauth's "Continue" page.
SOCIALACCOUNT_LOGIN_ON_GET = False
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "entitlements:technical_benefits"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Email: printed to the console unless an SMTP server is named.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds to wait for the mail server, so a stalled one can't hold a worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # for the file backend
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Partner benefits <benefits@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# English, and the languages of Partner Center's own documents: Japanese, Simplified Chinese.
# The browser's language is used until the user picks another in the account menu.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# /favicon.ico and /robots.txt, which browsers and crawlers ask for at the site's root.
WHITENOISE_ROOT = BASE_DIR / "public"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files stay under VAR_DIR and have no URL: the portal serves each one through a view
# that checks who asks (software downloads: software.views.download).
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "downloads": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "downloads"},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# HTTPS. Off in development; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=true.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers' and Compose's health checks may come over HTTP.
SECURE_REDIRECT_EXEMPT = [r"^alive$", r"^health$"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy: the portal's own scripts and styles only, no inline ones.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Celery: Redis when configured, else message files under var/broker (no server to run),
# through benefits_portal/broker.py: kombu's own filesystem transport can read a message
# another process is still writing, and its worker dies of it.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "atomicfs://"
if CELERY_BROKER_URL.startswith(("atomicfs://", "filesystem://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        # Files that are not messages, moved out of the queue (atomicfs:// only).
        "quarantine_folder": str(VAR_DIR / "broker" / "quarantine"),
        "polling_interval": 0.2,
    }
CELERY_TASK_IGNORE_RESULT = True
# With the broker down, publishing gives up within about a second; the sweeper catches up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.3,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A worker or beat whose broker is away keeps trying to reconnect, however long it takes.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE

# Activation: a request takes ACTIVATION_BUSINESS_DAYS business days of simulated time, where
# a simulated day lasts SIMULATED_DAY_SECONDS (86400: real days; `make run` sets 20).
ACTIVATION_BUSINESS_DAYS = env_int("ACTIVATION_BUSINESS_DAYS", 3)
SIMULATED_DAY_SECONDS = env_int("SIMULATED_DAY_SECONDS", 86400)
ACTIVATION_SWEEP_SECONDS = env_int("ACTIVATION_SWEEP_SECONDS", 10)
# How often a Software row whose pool ran out asks again whether keys were loaded.
KEYS_POLL_SECONDS = env_int("KEYS_POLL_SECONDS", 60)
ACTIVATION_MAX_ATTEMPTS = env_int("ACTIVATION_MAX_ATTEMPTS", 5)
if ACTIVATION_BUSINESS_DAYS < 1 or SIMULATED_DAY_SECONDS < 1 or ACTIVATION_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured(
        "ACTIVATION_BUSINESS_DAYS, SIMULATED_DAY_SECONDS and ACTIVATION_SWEEP_SECONDS must be "
        "at least 1."
    )
# Emails wait behind activations' steps: after a burst of completions, the next stage of an
# activation someone is watching goes before the emails about those already done. Redis
# serves priority 0 (every other task) first; the filesystem broker ignores priorities.
NOTICE_EMAIL_PRIORITY = 9
CELERY_BEAT_SCHEDULE = {
    "sweep-due-activations": {
        "task": "activation.tasks.sweep_due_activations",
        "schedule": ACTIVATION_SWEEP_SECONDS,
        # A sweep not started before the next one is due is dropped, not piled up.
        "options": {"expires": ACTIVATION_SWEEP_SECONDS * 0.9},
    },
    # The limits' counters of past windows; the database cache's expired rows.
    "forget-old-limit-counters": {
        "task": "benefits_portal.tasks.forget_old_limit_counters",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    # The API's Idempotency-Keys older than a month (api.tasks.KEEP_KEYS).
    "forget-old-idempotency-keys": {
        "task": "api.tasks.forget_old_idempotency_keys",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "forget-expired-cache-entries": {
        "task": "benefits_portal.tasks.forget_expired_cache_entries",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    # Roles approved for a number of days, whose time is up.
    "lapse-time-limited-roles": {
        "task": "accounts.tasks.lapse_grants",
        "schedule": 300,
        "options": {"expires": 270},
    },
    # The outbox's emails whose first sending failed (mail server, broker or worker away).
    "send-pending-notices": {
        "task": "notices.tasks.send_pending_notices",
        "schedule": 30,
        "options": {"expires": 27, "priority": NOTICE_EMAIL_PRIORITY},
    },
    # Contracts about to end, incidents running out, renewal windows: once each, however
    # many runs (notices.reminders).
    "send-reminders": {
        "task": "notices.tasks.send_reminders",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    # Advisory hours about to lapse with their membership year, unused (cases.services).
    # Webhook deliveries due again after a failed try, or whose sender died.
    "send-due-webhooks": {
        "task": "notices.tasks.send_due_webhooks",
        "schedule": 5,
        "options": {"expires": 4.5},
    },
    # Webhook endpoints removed an hour ago, and deliveries done with a month ago.
    "forget-old-webhooks": {
        "task": "notices.tasks.forget_old_webhooks",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "remind-advisory-hours-expiring": {
        "task": "cases.tasks.remind_hours_expiring",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
}
# The portal's address, for links in emails.
PORTAL_URL = env_str("PORTAL_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# The JSON API (api/): requests a minute per token.
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 300)

# Webhooks (notices.webhooks): the seconds between a failed try and the next (after the last,
# the delivery is given up: about three and a half days in all, as Standard Webhooks' own
# senders do), and the days an endpoint may fail every try before it is disabled.
try:
    WEBHOOK_RETRY_DELAYS = [
        int(seconds)
        for seconds in env_list(
            "WEBHOOK_RETRY_DELAYS", ["5", "300", "1800", "7200", "18000"] + ["36000"] * 8
        )
    ]
except ValueError:
    raise ImproperlyConfigured(
        "WEBHOOK_RETRY_DELAYS must be whole seconds, comma-separated."
    ) from None
if not WEBHOOK_RETRY_DELAYS or min(WEBHOOK_RETRY_DELAYS) < 1:
    raise ImproperlyConfigured("WEBHOOK_RETRY_DELAYS must list at least one delay of 1 s or more.")
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 3)
# Webhooks go only to public addresses (no loopback, private or link-local ones: a URL must
# not reach into the portal's own network). These addresses are let through anyway: a local
# receiver in development and in tests.
WEBHOOK_ALLOWED_ADDRESSES = env_list("WEBHOOK_ALLOWED_ADDRESSES")
