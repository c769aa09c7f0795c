"""The plot panels of the main window, one module per panel; :mod:`.registry` lists them.

Nothing is imported here, so that the registry (and with it ``rnnviz export --panels``) can be
read without loading Qt.
"""
