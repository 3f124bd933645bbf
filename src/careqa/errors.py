"""Typed errors: the library raises these, the CLI and UI turn them into one clear line."""


class CareqaError(Exception):
    """Base class for errors a user can act on; the message is shown as it is."""


class DocumentError(CareqaError):
    """A corpus file could not be read; the message names the file and the reason."""


class IndexMissingError(CareqaError):
    """No built index where one was expected."""


class IndexCorruptError(CareqaError):
    """An index exists but cannot be used (corrupt, wrong model, wrong format)."""


class IndexBusyError(CareqaError):
    """Another process is writing the index."""


class IndexWriteError(CareqaError):
    """A new version could not be written (disk full, permissions); the previous one stays live."""


class SettingsError(CareqaError):
    """A setting (environment variable or option) has a value careqa cannot use."""


class BuildCancelled(CareqaError):
    """A build or update was stopped before it wrote anything; the previous version stays live."""
