"""History that already exists: captures made by web archives turned into versions by the
sync's own pipeline (capture.checker's checks, capture.decide, capture.recorder).

- `files.py`     `archiver import`: WARC and WACZ files (warcs.py reads them)
- `backfill.py`  `archiver backfill`: a Wayback-compatible server's CDX API and originals
- `ingest.py`    one capture through the pipeline, dated by the capture, named by its origin
"""
