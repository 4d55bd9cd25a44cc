"""Namespaced signing over itsdangerous.

Every signed value carries a namespace (the salt), so a load-once token can never be
replayed as a consent cookie or a CSRF token, and the other way round.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

_MAX_TOKEN_LENGTH = 4096


class Signer:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        # itsdangerous signs with the LAST key and verifies with all; ours signs with the first.
        self._keys = list(reversed(keys))
        self._serializers: dict[str, URLSafeTimedSerializer] = {}

    def _serializer(self, namespace: str) -> URLSafeTimedSerializer:
        serializer = self._serializers.get(namespace)
        if serializer is None:
            serializer = URLSafeTimedSerializer(self._keys, salt=namespace)
            self._serializers[namespace] = serializer
        return serializer

    def sign(self, value: Any, *, namespace: str) -> str:
        return self._serializer(namespace).dumps(value)

    def unsign(self, token: str | None, *, namespace: str, max_age: int | None = None) -> Any:
        """The signed value, or None for anything missing, tampered, expired or foreign."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        try:
            return self._serializer(namespace).loads(token, max_age=max_age)
        except BadData:
            return None
