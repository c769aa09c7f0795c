"""Bundled sample sessions, texts and icons (package data of ``rnnviz.resources``)."""
