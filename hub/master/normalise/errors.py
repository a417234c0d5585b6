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

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(field, value, reason)  # args kept so the error pickles
        self.field = field
        self.value = value
        self.reason = reason

    def __str__(self) -> str:
        if self.reason.startswith("not "):
            return f"{self.field} {self.value!r} is {self.reason}"
        return f"{self.field} {self.value!r}: {self.reason}"
