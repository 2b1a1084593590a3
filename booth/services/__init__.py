"""Threads and orchestration: capture, compositor, monitors, output. No QtWidgets here."""
