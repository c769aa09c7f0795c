"""Inputs for networks to read: signal generators, text encodings and the classic long-memory
tasks (their definitions, baselines and success measures). NumPy only; no Qt, no sessions."""
