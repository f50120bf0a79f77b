"""The static site: `build_site` renders the archive's git history into pages (site.build),
`serve` previews them (site.serve)."""

from archiver.site.build import BuildReport, build_site
from archiver.site.config import SiteConfig
from archiver.site.serve import serve

__all__ = ["BuildReport", "SiteConfig", "build_site", "serve"]
