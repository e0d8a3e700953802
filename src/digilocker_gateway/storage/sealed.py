"""Values sealed at rest: which ones there are, the context each is bound to, and the calls
that seal and open them.

Every encrypted column of the gateway is a `SealedField` here. A field's context,
`<owner>:<row id>:<name>`, is the associated data of its AES-GCM seal (storage/encryption.py),
so a sealed value copied to another row or another column does not open. Adding an encrypted
column means adding its field here; `keys rewrap` (storage/rewrap.py) reseals what its table
lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from digilocker_gateway.storage.encryption import decrypt_text, encrypt_text, rewrap_text
from digilocker_gateway.storage.keys import Keyring


@dataclass(frozen=True, slots=True)
class SealedField:
    owner: str
    name: str

    def context(self, row_id: str) -> bytes:
        return f"{self.owner}:{row_id}:{self.name}".encode()


# A request's OAuth secrets. The names double as OAuth's token_type_hint values.
PKCE_VERIFIER = SealedField("digilocker_request", "pkce_verifier")
ACCESS_TOKEN = SealedField("digilocker_request", "access_token")
REFRESH_TOKEN = SealedField("digilocker_request", "refresh_token")
# The DigiLocker user's details a request keeps for status (Setu's digilockerUserDetails).
DIGILOCKER_ID = SealedField("digilocker_request", "digilocker_id")
EMAIL = SealedField("digilocker_request", "email")
PHONE_NUMBER = SealedField("digilocker_request", "phone_number")
# The identity the caller expects (`expected` on create, docs/identity-match.md §1): personal
# data, sealed like the tokens and purged with its request.
EXPECTED_IDENTITY = SealedField("digilocker_request", "expected")
# The caller's sign-in hint (`hint` on create, docs/journey-options.md §1): a mobile number.
HINT = SealedField("digilocker_request", "hint")
# A product instance's DigiLocker partner app secret.
PARTNER_SECRET = SealedField("product_instance", "digilocker_client_secret")
# A webhook endpoint's signing secrets (docs/webhooks.md §3): the current one, and the one a
# rotation replaced, which still signs until its overlap ends.
WEBHOOK_SECRET = SealedField("webhook_endpoint", "secret")
WEBHOOK_PREVIOUS_SECRET = SealedField("webhook_endpoint", "previous_secret")


@dataclass(frozen=True, slots=True)
class SealedValues:
    """Seal and open sealed fields with the keyring: new seals use its active key, and every
    key it holds opens."""

    keyring: Keyring

    def seal(self, field: SealedField, row_id: str, plaintext: str) -> str:
        return encrypt_text(self.keyring, plaintext, associated_data=field.context(row_id))

    def open(self, field: SealedField, row_id: str, sealed: str) -> str:
        """Raises storage.encryption.DecryptionError for a tampered, moved or orphaned value."""
        return decrypt_text(self.keyring, sealed, associated_data=field.context(row_id))

    def reseal(self, field: SealedField, row_id: str, sealed: str) -> str:
        """The value sealed under the active key (the same string if it already is)."""
        return rewrap_text(self.keyring, sealed, associated_data=field.context(row_id))
