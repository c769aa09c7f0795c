"""A small typesetter for the few formulas rnnviz shows: a TeX-like markup to Qt rich text.

Markup: ``_`` and ``^`` make a sub- or superscript of the next character or ``{group}``;
``\\name`` is a symbol (Greek letters, ``\\odot`` ⊙, ``\\cdot`` ·, ``\\times`` ×, ``\\sigma``
σ, ``\\partial`` ∂, …) or an upright function name (``\\tanh``, ``\\softmax``, ``\\relu``);
``\\;`` a space; ``\\text{…}`` upright text. Single letters are set in italics (variables),
longer runs of letters upright (names), digits and signs upright, "-" as a true minus.
No LaTeX installation is involved: the output is HTML for ``QTextDocument`` (QLabel,
QGraphicsTextItem, tool tips). :func:`render_text` typesets prose with ``$…$`` formulas in it,
as lesson steps are written.
"""

from __future__ import annotations

import html
from functools import lru_cache

SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η",
    "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "phi": "φ", "psi": "ψ", "omega": "ω", "Delta": "Δ", "Sigma": "Σ", "Pi": "Π", "Omega": "Ω",
    "odot": "⊙", "cdot": "·", "times": "×", "partial": "∂", "nabla": "∇", "infty": "∞",
    "approx": "≈", "le": "≤", "ge": "≥", "ne": "≠", "to": "→", "gets": "←", "ldots": "…",
    "in": "∈", "sum": "∑", "prod": "∏", "|": "‖", ";": "\u2002", ",": "\u2009", "quad": "\u2003",
    "{": "{", "}": "}", "_": "_", "^": "^", "$": "$", "\\": "\\",
}
FUNCTIONS = {"tanh", "relu", "softmax", "exp", "log", "max", "min", "mean"}
MINUS = "\u2212"


class MathSyntaxError(ValueError):
    """Markup the typesetter cannot read (an unclosed group, an unknown \\name)."""


def _group(markup: str, start: int) -> tuple[str, int]:
    """The text of the ``{…}`` group opening at ``start`` and the index after it."""
    depth = 0
    for k in range(start, len(markup)):
        if markup[k] == "\\":
            continue
        if markup[k] == "{" and (k == 0 or markup[k - 1] != "\\"):
            depth += 1
        elif markup[k] == "}" and markup[k - 1] != "\\":
            depth -= 1
            if depth == 0:
                return markup[start + 1:k], k + 1
    raise MathSyntaxError(f"unclosed {{ in {markup!r}")


def _command(markup: str, start: int) -> tuple[str, int]:
    """The name of the command at ``start`` (after its backslash) and the index after it."""
    k = start + 1
    if k >= len(markup):
        raise MathSyntaxError(f"a lone \\ at the end of {markup!r}")
    if not markup[k].isalpha():
        return markup[k], k + 1
    end = k
    while end < len(markup) and markup[end].isalpha():
        end += 1
    return markup[k:end], end


def _atom(markup: str, start: int, script: bool) -> tuple[str, int]:
    """Typeset the one unit at ``start`` (a group, a command or a character)."""
    ch = markup[start]
    if ch == "{":
        inner, end = _group(markup, start)
        return _render(inner, script), end
    if ch == "\\":
        name, end = _command(markup, start)
        if name == "text":
            if end >= len(markup) or markup[end] != "{":
                raise MathSyntaxError("\\text needs a {group}")
            inner, end = _group(markup, end)
            return html.escape(inner), end
        if name in FUNCTIONS:
            return name, end
        if name in SYMBOLS:
            return html.escape(SYMBOLS[name]), end
        raise MathSyntaxError(f"unknown symbol \\{name}")
    return _char(ch, script), start + 1


def _char(ch: str, script: bool) -> str:
    if ch == "-":
        return MINUS
    if ch.isalpha() and ch.isascii():
        return f"<i>{ch}</i>"
    return html.escape(ch)


def _render(markup: str, script: bool = False) -> str:
    out: list[str] = []
    k = 0
    n = len(markup)
    while k < n:
        ch = markup[k]
        if ch in "_^":
            if k + 1 >= n:
                raise MathSyntaxError(f"{ch} needs something after it in {markup!r}")
            body, k = _atom(markup, k + 1, True)
            tag = "sub" if ch == "_" else "sup"
            out.append(f"<{tag}>{body}</{tag}>")
            continue
        if ch.isascii() and ch.isalpha():
            end = k
            while end < n and markup[end].isascii() and markup[end].isalpha():
                end += 1
            word = markup[k:end]
            if len(word) > 1 and not script:
                out.append(html.escape(word))  # a name ("softmax"): upright
            else:
                out.append(f"<i>{word}</i>")
            k = end
            continue
        if ch == "}":
            raise MathSyntaxError(f"unmatched }} in {markup!r}")
        piece, k = _atom(markup, k, script)
        out.append(piece)
    return "".join(out)


@lru_cache(maxsize=4096)  # labels repeat at every redraw
def render(markup: str) -> str:
    """The markup typeset as rich text (an HTML fragment). MathSyntaxError for markup it cannot
    read."""
    return _render(markup)


def render_text(text: str) -> str:
    """Prose with ``$…$`` formulas (``\\$`` for a dollar sign) as rich text: the prose escaped,
    each formula typeset, line breaks kept. MathSyntaxError for an unclosed ``$`` or bad
    markup inside one."""
    out: list[str] = []
    k = 0
    prose: list[str] = []
    while k < len(text):
        ch = text[k]
        if ch == "\\" and k + 1 < len(text) and text[k + 1] == "$":
            prose.append("$")
            k += 2
            continue
        if ch == "$":
            end = k + 1
            while end < len(text) and not (text[end] == "$" and text[end - 1] != "\\"):
                end += 1
            if end >= len(text):
                raise MathSyntaxError("a $ formula is not closed")
            out.append(html.escape("".join(prose)).replace("\n", "<br>"))
            prose = []
            out.append(render(text[k + 1:end]))
            k = end + 1
            continue
        prose.append(ch)
        k += 1
    out.append(html.escape("".join(prose)).replace("\n", "<br>"))
    return "".join(out)


def plain(markup: str) -> str:
    """The markup as plain Unicode text (for CSV files and status lines): symbols replaced,
    sub- and superscripts left as typed (``h_{t−1}``)."""
    out: list[str] = []
    k = 0
    while k < len(markup):
        ch = markup[k]
        if ch == "\\":
            name, k = _command(markup, k)
            if name == "text":
                continue
            out.append(name if name in FUNCTIONS else SYMBOLS.get(name, name))
            continue
        out.append(MINUS if ch == "-" else ch)
        k += 1
    return "".join(out)
