"""The error raised for a user file that cannot be read, and the helpers that keep its message
one readable line whatever the file holds."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """``text`` with line breaks and other control characters written as escapes (``\\n``)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m[0], f"\\x{ord(m[0]):02x}"
                                             if ord(m[0]) < 256 else f"\\u{ord(m[0]):04x}"),
                        text)


class FileFormatError(ValueError):
    """A file (or pasted text) that cannot be read as what it claims to be.

    The message is one line naming the file and the problem, e.g.
    ``data.csv: row 4 has 2 columns, expected 3``. Line breaks and other control characters
    that a file name or a key brings into the message are escaped, so it stays one line.
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(escape_controls(str(message)))


def quoted(name: str, limit: int = 60) -> str:
    """``repr`` of a key or name for a message: one line, cut to about ``limit`` characters."""
    text = repr(name)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def one_line(exc: BaseException | str, limit: int = 200) -> str:
    """An exception's text as one line (whitespace runs and terminal colours collapsed)."""
    text = " ".join(_ANSI_ESCAPE.sub("", str(exc)).split())
    return text[:limit] if text else type(exc).__name__ if isinstance(exc, BaseException) else ""
