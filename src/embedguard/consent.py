"""The visitor's consent: the signed cookie for "always".

"Load once" needs nothing signed: ``POST /consent`` answers with the loaded page itself
(see views/consent.py), so there is no URL another site could open again.

A cookie or token that is missing, tampered, expired, signed for another purpose or for
an older policy version counts as no consent, never as an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .signing import Signer

COOKIE_NAME = "eg_consent"
# The query parameter older versions put the load-once token in; still dropped from
# redirect targets, never read.
ONCE_PARAMETER = "consent"
_COOKIE_NAMESPACE = "consent"


@dataclass(frozen=True)
class Consent:
    providers: frozenset[str] = frozenset()
    policy_version: int = 0
    given_at: int = 0

    def allows(self, provider: str) -> bool:
        return provider in self.providers

    def with_provider(self, provider: str, policy_version: int) -> Consent:
        return Consent(self.providers | {provider}, policy_version, int(time.time()))

    def without(self, provider: str | None) -> Consent:
        remaining = frozenset() if provider is None else self.providers - {provider}
        return Consent(remaining, self.policy_version, self.given_at)


NO_CONSENT = Consent()


class ConsentCodec:
    def __init__(self, signer: Signer, *, lifetime_days: int, known_providers: frozenset[str]):
        self._signer = signer
        self.max_age = lifetime_days * 86400
        self._known = known_providers

    def read_cookie(self, value: str | None, policy_version: int) -> Consent:
        data = self._signer.unsign(value, namespace=_COOKIE_NAMESPACE, max_age=self.max_age)
        if not isinstance(data, dict) or data.get("v") != policy_version:
            return NO_CONSENT
        providers, given_at = data.get("p"), data.get("t")
        if not isinstance(providers, list) or not isinstance(given_at, int):
            return NO_CONSENT
        if given_at + self.max_age < time.time():
            return NO_CONSENT
        return Consent(
            frozenset(p for p in providers if isinstance(p, str) and p in self._known),
            policy_version,
            given_at,
        )

    def cookie_value(self, consent: Consent) -> str:
        payload = {
            "p": sorted(consent.providers),
            "v": consent.policy_version,
            "t": consent.given_at,
        }
        return self._signer.sign(payload, namespace=_COOKIE_NAMESPACE)
