"""Settings: laptop defaults work, production refuses to start half-configured."""

from __future__ import annotations

import pytest

from chainels_app.settings import SettingsError, load_settings


def test_laptop_defaults(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert settings.mail_backend == "console"
    assert settings.redis_url is None
    assert settings.allowed_origins == [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
    ]
    assert not settings.cookie_secure
    # The generated secret is kept, so sessions survive a restart.
    assert load_settings({"DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key
    assert len(settings.secret_key) >= 32


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CHAINELS_ENV": "prod", "PUBLIC_BASE_URL": "https://x.nl"}, "SECRET_KEY"),
        ({"CHAINELS_ENV": "prod", "SECRET_KEY": "k" * 40}, "PUBLIC_BASE_URL"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"MAIL_BACKEND": "pigeon"}, "MAIL_BACKEND"),
        ({"INVITE_TTL_DAYS": "two weeks"}, "whole number"),
    ],
)
def test_bad_environments_stop_the_start(tmp_path, env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"DATA_DIR": str(tmp_path), **env})


def test_production_over_https_sends_secure_cookies(tmp_path):
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "CHAINELS_ENV": "prod",
            "SECRET_KEY": "k" * 40,
            "PUBLIC_BASE_URL": "https://centrum.example.nl/",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert settings.cookie_secure
    assert settings.allowed_origins == ["https://centrum.example.nl"]
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_a_laptop_on_another_port_allows_that_port_only(tmp_path):
    settings = load_settings(
        {"DATA_DIR": str(tmp_path), "PUBLIC_BASE_URL": "http://127.0.0.1:3100"}
    )
    assert settings.allowed_origins == [
        "http://127.0.0.1:3100",
        "http://localhost:3100",
    ]
