import time

import pytest

from embedguard.consent import NO_CONSENT, Consent, ConsentCodec
from embedguard.signing import Signer

NEW, OLD = "new-signing-key-0123456789", "old-signing-key-0123456789"


def codec(signer: Signer, days: int = 180) -> ConsentCodec:
    return ConsentCodec(signer, lifetime_days=days, known_providers=frozenset({"vimeo", "twitter"}))


def test_round_trip_and_namespaces() -> None:
    signer = Signer((NEW,))
    token = signer.sign({"a": 1}, namespace="once")
    assert signer.unsign(token, namespace="once") == {"a": 1}
    assert signer.unsign(token, namespace="consent") is None


def test_first_key_signs_all_verify() -> None:
    old_token = Signer((OLD,)).sign("x", namespace="consent")
    rotated = Signer((NEW, OLD))
    assert rotated.unsign(old_token, namespace="consent") == "x"
    new_token = rotated.sign("y", namespace="consent")
    assert Signer((NEW,)).unsign(new_token, namespace="consent") == "y"
    assert Signer((OLD,)).unsign(new_token, namespace="consent") is None


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c", "x" * 5000, "ä€𝄞"])
def test_garbage_is_no_value(token: str | None) -> None:
    assert Signer((NEW,)).unsign(token, namespace="consent") is None


def test_tampered_token() -> None:
    signer = Signer((NEW,))
    token = signer.sign({"p": ["vimeo"]}, namespace="consent")
    assert (
        signer.unsign(
            token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], namespace="consent"
        )
        is None
    )


def test_consent_cookie_round_trip() -> None:
    signer = Signer((NEW,))
    consent = NO_CONSENT.with_provider("vimeo", 3)
    read = codec(signer).read_cookie(codec(signer).cookie_value(consent), 3)
    assert read.providers == {"vimeo"}
    assert read.policy_version == 3
    assert abs(read.given_at - time.time()) < 5


def test_old_policy_version_is_no_consent() -> None:
    signer = Signer((NEW,))
    value = codec(signer).cookie_value(NO_CONSENT.with_provider("vimeo", 1))
    assert codec(signer).read_cookie(value, 2) == NO_CONSENT


def test_expired_consent_is_no_consent() -> None:
    signer = Signer((NEW,))
    stale = Consent(frozenset({"vimeo"}), 1, int(time.time()) - 2 * 86400)
    assert codec(signer, days=1).read_cookie(codec(signer).cookie_value(stale), 1) == NO_CONSENT


def test_unknown_providers_are_dropped() -> None:
    signer = Signer((NEW,))
    value = codec(signer).cookie_value(Consent(frozenset({"vimeo", "evil"}), 1, int(time.time())))
    assert codec(signer).read_cookie(value, 1).providers == {"vimeo"}


def test_cookie_from_another_key_is_no_consent() -> None:
    value = codec(Signer((OLD,))).cookie_value(NO_CONSENT.with_provider("vimeo", 1))
    assert codec(Signer((NEW,))).read_cookie(value, 1) == NO_CONSENT


def test_namespace_is_the_itsdangerous_salt() -> None:
    from itsdangerous import URLSafeTimedSerializer

    token = Signer((NEW, OLD)).sign({"p": "vimeo"}, namespace="once")
    assert URLSafeTimedSerializer([OLD, NEW], salt="once").loads(token) == {"p": "vimeo"}
