"""Shares the store tests' drop and data-folder fixtures."""

from tests.store.conftest import DROP, config, data_dir, open_log, recorder  # noqa: F401
