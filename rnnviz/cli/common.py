"""What the ``rnnviz`` commands share: one-line usage errors and argument types."""

from __future__ import annotations

import argparse

CELLS = {"rnn": "rnn_tanh", "rnn_tanh": "rnn_tanh", "rnn_relu": "rnn_relu", "lstm": "lstm",
         "gru": "gru"}


class UsageError(Exception):
    """A bad argument or input file: reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise UsageError(message)


def csv_list(choices: tuple[str, ...], what: str):
    def parse(text: str) -> list[str]:
        items = [s.strip().lower() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(bad) or '(none)'}; choose from {', '.join(choices)}")
        return items
    return parse
