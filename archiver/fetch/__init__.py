"""fetch: polite HTTP (per-host limits, robots.txt on every hop, conditional requests) and
the reading of a page's bytes as text. See docs/architecture.md."""
