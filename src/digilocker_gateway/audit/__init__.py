"""The audit log: an append-only, hash-chained record of every consent and every access to a
user's data, per product instance (docs/audit.md)."""
