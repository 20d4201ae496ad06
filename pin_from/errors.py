"""One error hierarchy: every expected failure is a PinFromError.

Hooks catch PinFromError at one place and print its one-line message; anything
else is a bug and is allowed to raise.
"""
from __future__ import annotations


class PinFromError(Exception):
    """An expected failure whose message is one line, fit for the user."""


class InvalidReference(PinFromError):
    """An image reference that Docker's grammar rejects."""


class DockerfileError(PinFromError):
    """A Dockerfile that cannot be read, lexed or written safely."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class RegistryError(PinFromError):
    """A registry that could not answer, refused, or answered nonsense."""


class CacheMiss(PinFromError):
    """An answer needed in --offline mode that the cache does not hold."""


class LibraryError(PinFromError):
    """An official-images library file that could not be fetched or parsed."""


class RegistryUnavailable(RegistryError):
    """No definite answer: unreachable, timed out, or failing with 5xx.

    Unlike a 404 or 401, a cached answer may stand in for it (stale-if-error).
    """
