"""The one place that reads the environment.

Every default works on a laptop (SQLite under ``data/``, console mail, a secret
generated on first start). In production (``CHAINELS_ENV=prod``) a missing secret
or base URL stops the app at start-up instead of running insecurely.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MAIL_BACKENDS = ("console", "smtp", "sendgrid")
LOOPBACK_NAMES = ("localhost", "127.0.0.1")


class SettingsError(RuntimeError):
    """The environment describes a deployment that must not start."""


@dataclass(frozen=True)
class Settings:
    """Deployment settings, read once."""

    env: str
    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    public_base_url: str
    mail_backend: str
    mail_dir: Path
    mail_from: str
    invite_ttl_days: int
    reset_ttl_minutes: int
    session_idle_minutes_privileged: int
    session_idle_minutes: int
    session_absolute_minutes: int
    login_failures_per_account_hour: int
    login_failures_per_address_hour: int
    media_dir: Path
    max_image_bytes: int
    max_video_bytes: int
    max_document_bytes: int
    max_image_pixels: int
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_username: str
    smtp_password: str
    sendgrid_api_key: str
    sendgrid_host: str
    sendgrid_webhook_public_key: str
    mail_images: bool
    digest_hour: int
    mail_lease_seconds: int
    mail_retry_seconds: int

    @property
    def is_production(self) -> bool:
        """Whether this is a production deployment."""
        return self.env == "prod"

    @property
    def cookie_secure(self) -> bool:
        """Send the session cookie over HTTPS only when the site is HTTPS."""
        return self.public_base_url.startswith("https://")

    @property
    def allowed_origins(self) -> list[str]:
        """The origins whose pages may open the app's websocket.

        A laptop's app answers as ``localhost`` and as ``127.0.0.1`` alike, so
        both names are allowed there, on the base URL's own port only.
        """
        origin = self.public_base_url.rstrip("/")
        parts = urlsplit(origin)
        if parts.hostname not in LOOPBACK_NAMES:
            return [origin]
        port = f":{parts.port}" if parts.port else ""
        variants = [f"{parts.scheme}://{name}{port}" for name in LOOPBACK_NAMES]
        return [origin, *(v for v in variants if v != origin)]


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        msg = f"{name} must be a whole number, not {raw!r}"
        raise SettingsError(msg) from None


def _sendgrid_key(env: dict[str, str], mail_backend: str) -> str:
    key = env.get("SENDGRID_API_KEY", "")
    if mail_backend == "sendgrid" and not key:
        msg = "SENDGRID_API_KEY is required when MAIL_BACKEND=sendgrid"
        raise SettingsError(msg)
    return key


def _secret_key(env: dict[str, str], data_dir: Path, production: bool) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        if len(key) < 32:
            msg = "SECRET_KEY must be at least 32 characters"
            raise SettingsError(msg)
        return key
    if production:
        msg = "SECRET_KEY is required when CHAINELS_ENV=prod"
        raise SettingsError(msg)
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build the settings from an environment mapping (``os.environ`` by default)."""
    env = dict(os.environ if env is None else env)
    deploy_env = env.get("CHAINELS_ENV", "dev")
    production = deploy_env == "prod"
    data_dir = Path(env.get("DATA_DIR", PROJECT_ROOT / "data")).resolve()

    base_url = env.get("PUBLIC_BASE_URL", "")
    if not base_url:
        if production:
            msg = "PUBLIC_BASE_URL is required when CHAINELS_ENV=prod"
            raise SettingsError(msg)
        base_url = "http://localhost:3000"

    mail_backend = env.get("MAIL_BACKEND", "console")
    if mail_backend not in MAIL_BACKENDS:
        msg = f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}"
        raise SettingsError(msg)

    return Settings(
        env=deploy_env,
        data_dir=data_dir,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'app.db'}",
        redis_url=env.get("REDIS_URL") or None,
        secret_key=_secret_key(env, data_dir, production),
        public_base_url=base_url.rstrip("/"),
        mail_backend=mail_backend,
        mail_dir=Path(env.get("MAIL_DIR", data_dir / "mail")).resolve(),
        mail_from=env.get("MAIL_FROM", "Wijkplatform <noreply@localhost>"),
        invite_ttl_days=_int(env, "INVITE_TTL_DAYS", 14),
        reset_ttl_minutes=_int(env, "RESET_TTL_MINUTES", 60),
        session_idle_minutes_privileged=_int(
            env, "SESSION_IDLE_MINUTES_PRIVILEGED", 30
        ),
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 12 * 60),
        session_absolute_minutes=_int(env, "SESSION_ABSOLUTE_MINUTES", 12 * 60),
        login_failures_per_account_hour=_int(env, "LOGIN_FAILURES_PER_ACCOUNT", 100),
        login_failures_per_address_hour=_int(env, "LOGIN_FAILURES_PER_ADDRESS", 500),
        media_dir=Path(env.get("MEDIA_DIR", data_dir / "media")).resolve(),
        max_image_bytes=_int(env, "MAX_IMAGE_MB", 20) * 1024 * 1024,
        max_video_bytes=_int(env, "MAX_VIDEO_MB", 200) * 1024 * 1024,
        max_document_bytes=_int(env, "MAX_DOCUMENT_MB", 25) * 1024 * 1024,
        max_image_pixels=_int(env, "MAX_IMAGE_MEGAPIXELS", 40) * 1_000_000,
        smtp_host=env.get("SMTP_HOST", "localhost"),
        smtp_port=_int(env, "SMTP_PORT", 25),
        smtp_starttls=env.get("SMTP_STARTTLS", "") in ("1", "true", "yes"),
        smtp_username=env.get("SMTP_USERNAME", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        sendgrid_api_key=_sendgrid_key(env, mail_backend),
        sendgrid_host=env.get("SENDGRID_HOST", "https://api.sendgrid.com").rstrip("/"),
        sendgrid_webhook_public_key=env.get("SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
        mail_images=env.get("MAIL_IMAGES", "thumbnails") != "none",
        digest_hour=_int(env, "DIGEST_HOUR", 7),
        mail_lease_seconds=_int(env, "MAIL_LEASE_SECONDS", 300),
        mail_retry_seconds=_int(env, "MAIL_RETRY_SECONDS", 30),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process."""
    return load_settings()
