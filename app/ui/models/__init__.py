"""What the window shows, decided without Qt: keys (:mod:`.keys`), the open document
and the seals placed on it (:mod:`.document`), signatures (:mod:`.signatures`).

These are plain dataclasses and functions; tests drive them without a window, and the
widgets only render them.
"""
