"""A handful of process-local counters, served as Prometheus text on /metrics."""

from __future__ import annotations

from collections import Counter


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.generate_accepted = 0
        self.generate_refused: Counter[str] = Counter()
        self.publish_failures = 0

    def count_request(self, status: int) -> None:
        self.requests[f"{status // 100}xx"] += 1

    def render(self) -> str:
        lines = [
            "# HELP gateway_requests_total HTTP requests answered, by status class.",
            "# TYPE gateway_requests_total counter",
        ]
        for status_class in ("1xx", "2xx", "3xx", "4xx", "5xx"):
            value = self.requests.get(status_class, 0)
            lines.append(f'gateway_requests_total{{status_class="{status_class}"}} {value}')
        lines += [
            "# HELP gateway_generate_accepted_total Generate/regenerate requests answered 202.",
            "# TYPE gateway_generate_accepted_total counter",
            f"gateway_generate_accepted_total {self.generate_accepted}",
            "# HELP gateway_generate_refused_total Generate/regenerate requests refused, by code.",
            "# TYPE gateway_generate_refused_total counter",
        ]
        for code, value in sorted(self.generate_refused.items()):
            lines.append(f'gateway_generate_refused_total{{code="{code}"}} {value}')
        lines += [
            "# HELP gateway_publish_failures_total GenerateRequested events Kafka did not ack.",
            "# TYPE gateway_publish_failures_total counter",
            f"gateway_publish_failures_total {self.publish_failures}",
        ]
        return "\n".join(lines) + "\n"
