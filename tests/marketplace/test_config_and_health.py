import pytest

from marketplace import create_app
from marketplace.config import DEFAULT_SECRET_KEY, ConfigError, normalise_database_url


def test_production_with_default_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"MEDIA_ROOT": str(tmp_path)})


def test_production_with_flask_env_and_default_secret_refuses(monkeypatch, tmp_path):
    monkeypatch.setenv("FLASK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigError):
        create_app({"MEDIA_ROOT": str(tmp_path)})


def test_production_with_own_secret_starts_and_uses_secure_cookies(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret-for-this-test")
    app = create_app({"MEDIA_ROOT": str(tmp_path), "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_database_url_spellings_use_psycopg3():
    assert normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_environment_configures_media_root_and_upload_limit(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "m"))
    monkeypatch.setenv("MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app()
    assert app.config["MEDIA_ROOT"] == str(tmp_path / "m")
    assert app.config["MAX_UPLOAD_MB"] == 3
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'x.db'}"


def test_healthz_reports_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_sqlite_runs_in_wal_mode(app):
    from sqlalchemy import text

    from marketplace.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.parametrize("hops", [0, 1])
def test_proxy_headers_are_trusted_only_when_configured(app, app_config, hops):
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import LoginAttempt

    behind_nginx = create_app({**app_config, "PROXY_HOPS": hops})
    client = behind_nginx.test_client()
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "pasar.koperasi.id"}
    client.post("/masuk", data={"identifier": "siapa@test.id", "password": "salah-salah"}, headers=headers)
    robots = client.get("/robots.txt", headers=headers).get_data(as_text=True)
    ip = db.session.scalar(select(LoginAttempt.ip).where(LoginAttempt.identifier == "siapa@test.id"))
    if hops:  # the client's own address is rate-limited, and links say https and the public host
        assert ip == "203.0.113.9"
        assert "Sitemap: https://pasar.koperasi.id/sitemap.xml" in robots
    else:  # anyone could send those headers: ignored
        assert ip == "127.0.0.1"
        assert "Sitemap: http://localhost/sitemap.xml" in robots


@pytest.mark.parametrize("typo", ["prod", "Produktion", "staging"])
def test_an_unknown_app_env_refuses_to_start_instead_of_running_with_the_dev_key(monkeypatch, tmp_path, typo):
    monkeypatch.setenv("APP_ENV", typo)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret-for-this-test-0123456789")
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app({"MEDIA_ROOT": str(tmp_path)})


def test_production_with_a_short_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 31)
    with pytest.raises(ConfigError, match="at least 32"):
        create_app({"MEDIA_ROOT": str(tmp_path)})
