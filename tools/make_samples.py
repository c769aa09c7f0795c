"""Write the bundled sample sessions to ``resources/samples/``: one ``<demo>.rnnviz`` per demo
in :data:`rnnviz.session.demos.DEMOS`, each holding ``load_demo(name)`` with the default view.

Run with ``python tools/make_samples.py`` after changing a demo or the session format.
Saving is deterministic, so re-running it reproduces the same files byte for byte.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnviz.io.session_file import SESSION_SUFFIX, save_session
from rnnviz.session import ViewState
from rnnviz.session.demos import DEMOS, load_demo

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "resources" / "samples"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in DEMOS:
        path = args.out / f"{name}{SESSION_SUFFIX}"
        save_session(path, load_demo(name), ViewState())
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
