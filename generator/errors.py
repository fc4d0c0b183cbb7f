"""Domain errors. Library code raises these; only the command line turns them into messages."""

from __future__ import annotations


class SitegenError(Exception):
    """Base class: a problem the user can fix. ``str()`` is the message shown to them."""


class InputError(SitegenError):
    """An input folder, file or setting is missing or unusable."""


class ModelError(SitegenError):
    """The model or its weights cannot be loaded."""


class CheckpointError(ModelError):
    """A saved model file is damaged or not a sitegen model."""


class ConfigError(SitegenError):
    """The settings (flags or sitegen.toml) are inconsistent."""


class UnsafePathError(SitegenError):
    """A path would make the build read or write outside its folders."""


class ImageError(SitegenError):
    """One image cannot be used. Carries the reason and the fix for the build report."""

    def __init__(self, path, reason: str, fix: str):
        super().__init__(f"{path}: {reason}. {fix}")
        self.path = path
        self.reason = reason
        self.fix = fix

    def __reduce__(self):   # sent back from a forked process as it was made
        return type(self), (self.path, self.reason, self.fix)


class EngineError(SitegenError):
    """The engine spreading the embeddings over other processes or machines failed."""
