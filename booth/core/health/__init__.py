"""Rig health, pure: power forecast, network statistics, meter maths, alert rules.

Nothing here reads a clock, a sensor or a socket: callers pass readings and times in.
"""
