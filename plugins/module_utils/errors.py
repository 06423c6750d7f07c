"""Exceptions raised by the collection's core; modules turn them into one clear message."""
from __future__ import annotations


class MigrationError(Exception):
    """Base of every error this collection raises on purpose."""


class ImageReferenceError(MigrationError):
    """An image reference does not carry the registry prefix it was expected to."""


class PullSecretError(MigrationError):
    """A generated pull secret has no counterpart in the destination namespace."""


class DiscoveryError(MigrationError):
    """A cluster fact (server version, internal registry) could not be determined."""


class LookupFailed(MigrationError):
    """A live cluster look-up failed for another reason than "not found"."""


class ActionError(MigrationError):
    """One action failed on one item."""

    def __init__(self, action: str, item_ref: str, cause: str) -> None:
        super().__init__(f"{action} failed on {item_ref}: {cause}")
        self.action = action
        self.item_ref = item_ref
        self.cause = cause
