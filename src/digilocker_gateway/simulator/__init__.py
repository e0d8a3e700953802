"""A faithful, offline DigiLocker: the requester (Authorized Partner) API, the consent journey,
seeded synthetic users, a catalogue sized like the real one, signed e-Aadhaar and fault injection.

It is an ASGI app of its own (`create_simulator_app`), served alone by
`digilocker-gateway simulator` or mounted under a path prefix of another app.
"""
