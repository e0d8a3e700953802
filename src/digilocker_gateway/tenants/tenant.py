"""`Tenant`: what an API call needs of the product instance its credentials name.

A frozen value, not an ORM row: the per-process credential cache (tenants/cache.py) hands the
same object to many concurrent calls, and a detached row shared between requests could be
mutated, lazily loaded or attached to the wrong session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digilocker_gateway.db.models import ProductInstance


@dataclass(frozen=True, slots=True)
class Tenant:
    product_instance_id: str
    client_id: str
    # The business's DigiLocker partner app; the secret stays sealed (storage/sealed.py).
    digilocker_client_id: str
    digilocker_client_secret_sealed: str = field(repr=False)
    # None: any absolute http(s) redirect URL, as Setu; else only these hosts (lower case).
    redirect_allowed_hosts: tuple[str, ...] | None
    request_lifetime_seconds: int
    aadhaar_allow_unverified: bool
    allow_missing_hmac: bool = False
    journey_browser_binding: bool = True
    # A document number that differs from the one expected is a 400, not a flag.
    refuse_number_mismatch: bool = False
    # Journey options (docs/journey-options.md §5): None takes the gateway's setting (bounds,
    # rate) or leaves the choice to DigiLocker (flow, purpose); extensions None allows all.
    max_request_lifetime_seconds: int | None = None
    max_consent_validity_seconds: int | None = None
    default_flow: str | None = None
    default_purpose: str | None = None
    allowed_extensions: frozenset[str] | None = None
    account_checks_per_minute: int | None = None

    def allows(self, extension: str) -> bool:
        """Whether this product instance may use the gateway extension named `extension`."""
        return self.allowed_extensions is None or extension in self.allowed_extensions

    @classmethod
    def of(cls, instance: ProductInstance) -> Tenant:
        hosts = instance.redirect_allowed_hosts
        return cls(
            product_instance_id=instance.id,
            client_id=instance.client_id,
            digilocker_client_id=instance.digilocker_client_id,
            digilocker_client_secret_sealed=instance.digilocker_client_secret_enc,
            redirect_allowed_hosts=tuple(h for h in hosts.split(",") if h) if hosts else None,
            request_lifetime_seconds=instance.request_lifetime_seconds,
            aadhaar_allow_unverified=instance.aadhaar_allow_unverified,
            allow_missing_hmac=instance.allow_missing_hmac,
            journey_browser_binding=instance.journey_browser_binding,
            refuse_number_mismatch=instance.refuse_number_mismatch,
            max_request_lifetime_seconds=instance.max_request_lifetime_seconds,
            max_consent_validity_seconds=instance.max_consent_validity_seconds,
            default_flow=instance.default_flow,
            default_purpose=instance.default_purpose,
            allowed_extensions=None
            if instance.allowed_extensions is None
            else frozenset(name for name in instance.allowed_extensions.split(",") if name),
            account_checks_per_minute=instance.account_checks_per_minute,
        )
