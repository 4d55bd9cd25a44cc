"""embedguard: two-click consent placeholders for third-party embeds."""

__version__ = "0.1.0"
