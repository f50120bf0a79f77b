"""archiver: a git-backed archive of how online news articles change.

The library under the CLI: open or create an archive, capture articles into it, build its
site. Each name is imported on first use, so `import archiver` (and the CLI's start) loads
nothing heavy.
"""

import importlib
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public name → the module defining it. Named as strings: the modules import the package
# (for __version__), so importing them here at the top would be a cycle.
_EXPORTS = {
    "Archive": "archiver.archive",
    "init_archive": "archiver.archive",
    "add": "archiver.sync",
    "reformat": "archiver.sync",
    "RunReport": "archiver.capture.model",
    "Result": "archiver.capture.model",
    "Outcome": "archiver.capture.model",
    "Observer": "archiver.capture.model",
    "Published": "archiver.capture.model",
    "build_site": "archiver.site.build",
    "BuildReport": "archiver.site.build",
    "extract_page": "archiver.extract.page",
    "Page": "archiver.extract.page",
    "ArchiverError": "archiver.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
