"""Tests of the DigiLocker simulator over HTTP."""
