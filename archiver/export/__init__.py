"""export: the archive handed over as data (see docs/export.md)."""
