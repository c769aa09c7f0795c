"""The error raised for a user file that cannot be read."""


class FileFormatError(ValueError):
    """A file (or pasted text) that cannot be read as what it claims to be.

    The message is one line naming the file and the problem, e.g.
    ``data.csv: row 4 has 2 columns, expected 3``.
    """
