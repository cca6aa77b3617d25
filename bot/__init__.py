"""marketbot: an event-driven market alerting bot.

Stages, one module each (see docs/architecture.md):
config → scheduler → fetcher → parser → extract → store → rules → slack/delivery.
"""

__version__ = "0.1.0"
