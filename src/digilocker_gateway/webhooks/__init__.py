"""Webhooks: endpoints per product instance, the outbox their events are written to, delivery
in the Standard Webhooks format with retries, and replay (docs/webhooks.md)."""
