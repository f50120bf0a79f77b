"""store: the archive on disk, the only writer of git and of the state database; its format
is store/format.py. See docs/architecture.md."""
