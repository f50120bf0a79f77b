"""discover: see docs/architecture.md."""
