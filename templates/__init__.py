"""The static site's templates, stylesheet and script (installed as archiver.templates)."""
