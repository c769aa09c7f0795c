"""Read one file with one reader in this process and print what happened as one JSON line.

    python tests/io/hostile/probe.py READER PATH [ADDRESS_SPACE_CAP_BYTES]

READER is "session", "sequence" or "weights". The line holds the outcome ("read", "refused"
for the project's one-line FileFormatError, or "crashed" with the exception type), the
message, the seconds the reader took and the process's peak resident memory (VmHWM, else
ru_maxrss) in MiB. An optional cap on the address space (RLIMIT_AS) keeps a reader that would
allocate gigabytes from taking the machine with it; it then ends as "crashed" with MemoryError.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _peak_mib() -> float:
    # ru_maxrss survives exec on Linux (a probe started by a large test process would report
    # its parent's size); the high-water mark of this process's own memory map does not.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def main(argv: list[str]) -> int:
    reader, path = argv[0], argv[1]
    if len(argv) > 2:
        cap = int(argv[2])
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from rnnviz.io.errors import FileFormatError
    from rnnviz.io.sequences import load_sequence
    from rnnviz.io.session_file import load_session
    from rnnviz.io.weights import load_weights

    read = {"session": load_session, "sequence": load_sequence, "weights": load_weights}[reader]
    baseline = _peak_mib()
    start = time.perf_counter()
    try:
        read(path)
    except FileFormatError as exc:
        outcome, message = "refused", str(exc)
    except BaseException as exc:  # the point is to see what escapes
        outcome, message = "crashed", f"{type(exc).__name__}: {exc}"[:500]
    else:
        outcome, message = "read", ""
    seconds = time.perf_counter() - start
    print(json.dumps({"outcome": outcome, "message": message, "seconds": round(seconds, 3),
                      "peak_mib": round(_peak_mib(), 1), "baseline_mib": round(baseline, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
