"""Counters for what the bot does and what goes wrong (Prometheus client).

Each App gets its own CollectorRegistry (nothing global at import), so tests and
several apps in one process never share counts; a /metrics endpoint can later
serve `registry` as is.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter("marketbot_feed_polls", "Feed polls by outcome",
                             ["feed", "outcome"], registry=r)
        self.items = Counter("marketbot_items", "New items stored", ["feed"], registry=r)
        self.items_skipped = Counter("marketbot_items_skipped",
                                     "Malformed feed entries skipped", ["feed"], registry=r)
        self.items_duplicate = Counter("marketbot_items_duplicate",
                                       "Items dropped as repeats of a stored story (same "
                                       "content under another key)", ["feed"], registry=r)
        self.figures = Counter("marketbot_figures", "Figures stored", ["metric"], registry=r)
        self.alerts = Counter("marketbot_alerts_queued", "Alerts written to the outbox",
                              ["kind"], registry=r)
        self.slack_posts = Counter("marketbot_slack_posts", "Slack posts by outcome",
                                   ["outcome"], registry=r)
        self.extract_errors = Counter("marketbot_extract_errors",
                                      "Items whose extraction raised", ["feed"], registry=r)

    def value(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name + "_total", labels) or 0.0
