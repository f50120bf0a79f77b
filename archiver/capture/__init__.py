"""capture: one article at a time, check → decide → record (see docs/architecture.md).

The checker fetches and extracts (model.Checked is what it hands on, plain data), decide
says what that means for the archive without touching it, and the recorder, the run's one
writer, commits and records it in order and tells the observers.
"""

from archiver.capture.checker import IN_FLIGHT, Checker, StoredTexts, source_for
from archiver.capture.decide import Decision, Stored
from archiver.capture.model import (
    Checked,
    Failure,
    Fetched,
    Observer,
    Outcome,
    Published,
    Result,
    RunReport,
    SourceRun,
    Target,
)
from archiver.capture.recorder import Recorder
from archiver.capture.worker import (
    Comparison,
    Extracted,
    extraction_job,
    extraction_workers,
    fingerprint,
)

__all__ = [
    "IN_FLIGHT",
    "Checked",
    "Checker",
    "Comparison",
    "Decision",
    "Extracted",
    "Failure",
    "Fetched",
    "Observer",
    "Outcome",
    "Published",
    "Recorder",
    "Result",
    "RunReport",
    "SourceRun",
    "Stored",
    "StoredTexts",
    "Target",
    "extraction_job",
    "extraction_workers",
    "fingerprint",
    "source_for",
]
