"""The shop in the domain: `[shop]` settings, the drop quota against the shop's stock, webhook decisions,
sync health and sticker codes. Pure: no I/O, no clock of its own (time is passed in)."""
