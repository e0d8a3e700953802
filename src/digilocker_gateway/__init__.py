"""Self-hosted, Setu-compatible DigiLocker gateway, with a faithful offline DigiLocker simulator."""

__version__ = "0.1.0"
