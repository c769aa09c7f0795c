"""Exports from the window and without a display: :mod:`.controller` (what is exported),
:mod:`.dialogs` (File → Export… and Export Animation…), :mod:`.figures` (PNG/SVG/PDF of plots),
:mod:`.animation` (GIF/MP4) and :mod:`.headless` (``rnnviz export``)."""
