"""The ``rnnviz`` command: launch the app."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnviz", description=__doc__)
    parser.add_argument("files", nargs="*", help="sessions, sequences or weights to open")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from rnnviz.gui.app import run

    return run(args.files)


if __name__ == "__main__":
    sys.exit(main())
