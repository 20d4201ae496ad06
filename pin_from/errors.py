"""One error hierarchy: every expected failure is a PinFromError.

Hooks catch PinFromError at one place and print its one-line message; anything
else is a bug and is allowed to raise.
"""
from __future__ import annotations


class PinFromError(Exception):
    """An expected failure whose message is one line, fit for the user."""


class UsageError(PinFromError):
    """Options that do not make sense: exit 2, as argparse does."""


class Unavailable(PinFromError):
    """No definite answer: unreachable, timed out, 429 or 5xx.

    Unlike a 401, 403 or 404, a stale cached answer may stand in for it
    (stale-if-unavailable), where the caller's policy allows it.
    """


class InvalidReference(PinFromError):
    """An image reference that Docker's grammar rejects."""


class FileError(PinFromError):
    """A file that cannot be read, decoded, scanned or written safely."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line




class RegistryError(PinFromError):
    """A registry that refused, or answered nonsense."""


class RegistryUnavailable(RegistryError, Unavailable):
    """A registry that could not answer (see Unavailable)."""


class CacheMiss(PinFromError):
    """An answer needed in --offline mode that the cache does not hold."""


class LibraryError(PinFromError):
    """An official-images library file or notice that could not be read or parsed."""


class LibraryUnavailable(LibraryError, Unavailable):
    """A library source that could not answer (see Unavailable)."""


class EolError(PinFromError):
    """End-of-life data (``--eol``) that could not be read or parsed."""
