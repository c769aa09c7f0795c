"""The ``rnnviz`` command.

``rnnviz [FILE...]`` opens the app (on the demo when no file is given); ``rnnviz export ...``
writes figures and data without a display (:mod:`rnnviz.cli.export`); ``rnnviz train ...``
trains networks on a task and saves the session (:mod:`rnnviz.cli.train`). Bad arguments and bad
files end with exit status 2 and one line on stderr, never a traceback. Each subcommand is a
module of this package with a ``parser()`` and a ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rnnviz.cli.common import Parser, UsageError

SUBCOMMANDS = {"export": "rnnviz.cli.export", "train": "rnnviz.cli.train"}


def launch_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rnnviz", description="See inside recurrent neural networks. "
                     "Use 'rnnviz export --help' for headless export.")
    parser.add_argument("files", nargs="*", help="sessions (.rnnviz), sequences (CSV/TSV/NPY/"
                        "NPZ) or weights (.npz/.safetensors/.pt) to open")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    try:
        if command is not None:
            module = importlib.import_module(SUBCOMMANDS[command])
            return module.run(module.parser().parse_args(argv[1:]))
        args = launch_parser().parse_args(argv)
    except UsageError as exc:
        prog = f"rnnviz {command}" if command else "rnnviz"
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    from rnnviz.gui.app import run

    return run(args.files)


if __name__ == "__main__":
    sys.exit(main())
