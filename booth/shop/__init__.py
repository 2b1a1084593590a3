"""Shop sync (issue 13): credentials on disk, the poller and writer threads, sticker-code redemption."""
