"""The one exception every normaliser raises.

It lives apart from the package's ``__init__`` so that the field modules can raise it without
importing the record-level code, and so that callers (API, CLI) can report any field's failure
the same way: by its ``field``, ``value`` and ``reason``.
"""

from __future__ import annotations


class NormalisationError(ValueError):
    """A present value that cannot be normalised.

    ``str()`` reads ``"phone '+49 30 12' is not a valid phone number for DE"`` (reasons that
    start with "not ") or ``"name '---': no usable name"`` (all other reasons).
    """

    def __init__(self, field: str, value: str, reason: str, weak: str | None = None) -> None:
        super().__init__(field, value, reason, weak)  # args kept so the error pickles
        self.field = field
        self.value = value
        self.reason = reason
        #: What the value still says when it fails its check (a tax id whose check digit is
        #: wrong, a phone number that is no valid number): ``WEAK`` + its compact form. The
        #: record keeps it as weak evidence (compared, never vetoing, never a golden value).
        self.weak = weak

    def __str__(self) -> str:
        if self.reason.startswith("not "):
            return f"{self.field} {self.value!r} is {self.reason}"
        return f"{self.field} {self.value!r}: {self.reason}"


#: Marks a value that failed its check but is kept for comparison (see ``NormalisationError.weak``).
WEAK = "?"


def is_weak(value: str | None) -> bool:
    """True for a value kept only as weak evidence: it never becomes a golden value."""
    return bool(value) and value[0] == WEAK  # type: ignore[index]
