"""One BLAS thread for the engine's matrix products.

The recurrent loops make one small matrix product per step, and the products around them are
small too: more BLAS threads only add synchronisation, and on a busy machine a thread that waits
for a descheduled sibling can stall a call for a whole scheduler time slice (about 10 ms).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_BLAS = ThreadpoolController()


def single_blas_thread() -> AbstractContextManager:
    """A context in which BLAS (OpenBLAS, MKL, ...) runs on the calling thread only."""
    return _BLAS.limit(limits=1, user_api="blas")
