from pathlib import Path

import pytest

from embedguard.settings import Settings, SettingsError, parse_frame_ancestors

KEY = "k" * 32


def env(**values: str) -> dict[str, str]:
    return {"EMBEDGUARD_SECRET_KEYS": KEY, **values}


def test_defaults() -> None:
    settings = Settings.from_env(env())
    assert settings.secret_keys == (KEY,)
    assert settings.data_dir == Path("./embedguard-data")
    assert settings.frame_ancestors == ("'self'",)
    assert settings.consent_days == 180
    assert settings.upstream_map == {}
    assert settings.public_url == ""


def test_missing_secret_stops_start_up_with_one_line() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({})
    assert "EMBEDGUARD_SECRET_KEYS" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_demo_makes_a_throwaway_key() -> None:
    assert len(Settings.from_env({}, demo=True).secret_keys[0]) >= 32


def test_keys_keep_their_order_and_must_be_long() -> None:
    settings = Settings.from_env(env(EMBEDGUARD_SECRET_KEYS=f"{'a' * 20}, {'b' * 20}"))
    assert settings.secret_keys == ("a" * 20, "b" * 20)
    with pytest.raises(SettingsError, match="16"):
        Settings.from_env(env(EMBEDGUARD_SECRET_KEYS="short"))


@pytest.mark.parametrize("value", ["0", "-3", "abc", "731", "1.5"])
def test_bad_consent_days(value: str) -> None:
    with pytest.raises(SettingsError, match="EMBEDGUARD_CONSENT_DAYS"):
        Settings.from_env(env(EMBEDGUARD_CONSENT_DAYS=value))


@pytest.mark.parametrize(
    "value",
    [
        "[]",
        "not json",
        '{"https://vimeo.com": 3}',
        '{"vimeo.com": "http://127.0.0.1:9"}',
        '{"https://vimeo.com": "http://127.0.0.1:9/path"}',
    ],
)
def test_bad_upstream_map(value: str) -> None:
    with pytest.raises(SettingsError, match="EMBEDGUARD_UPSTREAM_MAP"):
        Settings.from_env(env(EMBEDGUARD_UPSTREAM_MAP=value))


def test_upstream_map() -> None:
    mapping = '{"https://vimeo.com": "http://127.0.0.1:9000"}'
    settings = Settings.from_env(env(EMBEDGUARD_UPSTREAM_MAP=mapping))
    assert settings.upstream_map == {"https://vimeo.com": "http://127.0.0.1:9000"}


def test_frame_ancestors() -> None:
    assert parse_frame_ancestors("https://www.example.de https://example.de") == (
        "https://www.example.de",
        "https://example.de",
    )
    assert parse_frame_ancestors("'self' https://*.example.de") == (
        "'self'",
        "https://*.example.de",
    )


@pytest.mark.parametrize(
    "value",
    ["https://a.de; script-src *", "'unsafe-inline'", "'none' https://a.de", "javascript:x"],
)
def test_frame_ancestors_refuse_injection(value: str) -> None:
    with pytest.raises(SettingsError):
        parse_frame_ancestors(value)


@pytest.mark.parametrize("value", ["ftp://x.de", "https://x.de/?a=1", "nonsense"])
def test_bad_public_url(value: str) -> None:
    with pytest.raises(SettingsError, match="EMBEDGUARD_PUBLIC_URL"):
        Settings.from_env(env(EMBEDGUARD_PUBLIC_URL=value))
