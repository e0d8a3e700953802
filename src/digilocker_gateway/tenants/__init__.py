"""Tenants: API clients (Setu's x-client-id / x-client-secret) and their product instances."""
