"""The desktop application (PySide6): the sealing workspace.

``app/ui`` is the only package that imports Qt, and only some of its modules do:

* Qt-free (importable and testable without a display): :mod:`.i18n`, :mod:`.settings`,
  :mod:`.crashlog`, :mod:`.wire`, :mod:`.engine_client`, :mod:`.engine_host`,
  :mod:`.engine_ops`, :mod:`.tokens`, :mod:`.pagecache`, :mod:`.review` and the
  view models in :mod:`app.ui.models`;
* Qt: :mod:`.runner` (worker threads and signals), :mod:`.render` (the page renderer),
  :mod:`app.ui.widgets`, :mod:`app.ui.dialogs`, :mod:`.window`, :mod:`.main`.

PyMuPDF holds the GIL for the whole of each call (a page render, an incremental
save), so everything that runs it - rendering, search, placement previews,
sealing, verification - runs in child processes (:mod:`.engine_host`), and the
window's event loop never waits on it. See README.md in this folder.
"""
