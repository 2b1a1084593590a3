"""Booth: a host control booth for live-commerce micro-drops."""

__version__ = "0.1.0"
