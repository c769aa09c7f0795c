"""rnnviz: see inside recurrent neural networks, step by step."""

__version__ = "0.1.0"
