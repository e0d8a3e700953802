"""A short-lived, per-process memory of credentials that checked out, so the hot read calls
(status, catalogue) do not pay a database round trip for authentication every time.

Only successes are remembered, keyed by a hash of all three headers (never the secret itself),
for `ttl_seconds`: a client whose credentials are deleted or rotated stops working within that
time on every process. Nothing else depends on it: a miss just asks the database.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from digilocker_gateway.tenants.tenant import Tenant


class TenantCache:
    def __init__(self, *, ttl_seconds: float = 30.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Tenant]] = OrderedDict()

    @staticmethod
    def key(client_id: str, client_secret: str, product_instance_id: str) -> bytes:
        material = "\x00".join((client_id, client_secret, product_instance_id)).encode()
        return hashlib.sha256(material).digest()

    def get(self, key: bytes) -> Tenant | None:
        found = self._entries.get(key)
        if found is None:
            return None
        stored_at, instance = found
        if time.monotonic() - stored_at > self._ttl:
            self._entries.pop(key, None)
            return None
        return instance

    def put(self, key: bytes, tenant: Tenant) -> None:
        if self._ttl <= 0:
            return
        self._entries[key] = (time.monotonic(), tenant)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
