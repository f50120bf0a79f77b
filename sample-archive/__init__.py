"""The sample `archiver demo` replays; installed as the data package archiver.sample."""
