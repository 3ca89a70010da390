"""BC-RAO Drafts shared plumbing: logging, metrics, tracing, retries, dead letters."""
