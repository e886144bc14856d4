"""Madoguchi reader agent: reads My Number cards over PC/SC and pushes signed reads."""

__version__ = "0.1.0"
