"""The local control API: one ASGI server (FastAPI on uvicorn) on its own `booth-api` thread.

Shops, Companion/Stream Deck buttons, the phone remote and the OBS overlay all drive Booth through
it; every call is authenticated, state-changing calls are idempotent, and it binds to 127.0.0.1
unless told otherwise. See README "Control API" for the endpoints and the threat model.
"""
