"""Widgets and theme: the only package that imports QtWidgets."""
