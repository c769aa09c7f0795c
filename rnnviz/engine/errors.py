"""Errors raised by the engine."""


class EngineError(ValueError):
    """A bad argument to the engine: wrong shape, unknown name, out-of-range value."""
