"""The shop in the domain: `[shop]` settings, the drop quota against the shop's stock, webhook decisions,
sync health and sticker codes. Pure: no I/O, no clock of its own (time is passed in)."""

# The shop's events subclass booth.core.events.DropEvent, and that module registers them in its
# EVENT_TYPES as it finishes: importing it first keeps that order whichever module is imported first.
import booth.core.events  # noqa: F401
