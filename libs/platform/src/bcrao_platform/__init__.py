"""BC-RAO Drafts shared plumbing: the pieces all three services use the same way.

- `logs`: JSON log lines carrying the task id, with a repeat limiter for outages.
- `deadletter`: one dead-letter header schema, records that always fit the broker, attempts.
- `retry`: capped exponential backoff (tenacity) for non-LLM retries.
- `metrics`: prometheus_client registry helpers, a guarded /metrics, HTTP metrics.
- `settings`: fail-fast settings loading that never prints a value.
- `producers`: a FastStream broker's broken Kafka producer replaced (extra `faststream`).
"""
