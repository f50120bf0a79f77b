"""extract: a page's HTML → the article as a normalized document (trafilatura, the
boilerplate rules, normalized markdown). See docs/architecture.md."""
