# The package's public names with their types: __init__.py imports them lazily, which type
# checkers cannot follow. tests/test_api.py keeps this list and __all__ the same.
from archiver.archive import Archive as Archive
from archiver.archive import init_archive as init_archive
from archiver.capture.model import Observer as Observer
from archiver.capture.model import Outcome as Outcome
from archiver.capture.model import Published as Published
from archiver.capture.model import Result as Result
from archiver.capture.model import RunReport as RunReport
from archiver.errors import ArchiverError as ArchiverError
from archiver.extract.page import Page as Page
from archiver.extract.page import extract_page as extract_page
from archiver.site.build import BuildReport as BuildReport
from archiver.site.build import build_site as build_site
from archiver.sync import add as add
from archiver.sync import reformat as reformat

__version__: str
__all__: list[str]
