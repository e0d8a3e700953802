"""The DigiLocker request lifecycle: create, journey, callback, status, revoke, expiry."""
