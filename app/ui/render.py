"""The page renderer: pages drawn by PyMuPDF in a render process, off the UI thread,
into a cache bounded by bytes (:mod:`.pagecache`).

The viewer says which pages it shows (plus a margin) with :meth:`PageRenderer.want`;
thumbnails ask with :meth:`PageRenderer.want_thumbs`. One render thread takes the
most urgent missing page - visible pages before the margin, pages before
thumbnails, the newest request first - asks the render process for it (the thread
waits on a pipe, so the UI thread keeps running) and announces it with
``page_ready(page, scale)``. Requests that scrolled out of view are dropped before
they are rendered, so a 1000-page file scrolled end to end renders only what was
shown and keeps at most ``limit`` bytes of pictures.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.errors import BidSealError
from app.ui.engine_client import EngineProcess
from app.ui.pagecache import ByteBoundedCache

#: Bytes of rendered pages kept (about 70 A4 pages at fit-width on a laptop screen).
PAGE_CACHE_BYTES = 96 * 1024 * 1024
THUMB_CACHE_BYTES = 16 * 1024 * 1024


def image_from_rows(w: int, h: int, line: int, data: bytes) -> QImage:
    """A QImage that owns a copy of the RGB rows (``line`` bytes each, 4-byte aligned).

    Copied into the image's own memory rather than wrapped: a QImage built on a Python
    buffer is only valid while that buffer lives, and sharing one across threads is how
    viewers crash."""
    image = QImage(w, h, QImage.Format.Format_RGB888)
    bits = memoryview(image.bits())
    if image.bytesPerLine() == line:
        bits[:] = data
    else:  # another Qt layout: row by row
        n, bpl = w * 3, image.bytesPerLine()
        for y in range(h):
            bits[y * bpl:y * bpl + n] = data[y * line:y * line + n]
    return image


def scale_key(scale: float) -> int:
    """Scales are cached in hundredths, so a tiny zoom change reuses a picture."""
    return max(int(round(scale * 100)), 1)


class PageRenderer(QObject):
    page_ready = Signal(int, int)  # page, scale key
    thumb_ready = Signal(int)
    failed = Signal(object)  # BidSealError

    def __init__(self, parent: QObject | None = None, *, limit: int = PAGE_CACHE_BYTES,
                 thumb_scale: float = 0.18) -> None:
        super().__init__(parent)
        self.pages: ByteBoundedCache[QImage] = ByteBoundedCache(limit, lambda im: im.sizeInBytes())
        self.thumbs: ByteBoundedCache[QImage] = ByteBoundedCache(THUMB_CACHE_BYTES, lambda im: im.sizeInBytes())
        self.thumb_scale = thumb_scale
        self._cond = threading.Condition()
        self._path: str | None = None
        self._generation = 0
        self._want: list[int] = []
        self._want_scale = 1.0
        self._thumb_want: list[int] = []
        self._stop = False
        self._engine: EngineProcess | None = None
        self._engine_lock = threading.Lock()
        self._warm = False
        self.renders = 0
        self._thread = threading.Thread(target=self._loop, name="page-renderer", daemon=True)
        self._thread.start()

    # -- called on the UI thread ---------------------------------------------------------------
    def set_document(self, path: str | None) -> None:
        with self._cond:
            self._path = path
            self._generation += 1
            self._want, self._thumb_want = [], []
            self.pages.clear()
            self.thumbs.clear()
            self._cond.notify_all()

    def want(self, pages: Sequence[int], scale: float) -> None:
        """Render ``pages`` (most important first) at ``scale`` pixels per point."""
        with self._cond:
            self._want = list(pages)
            self._want_scale = scale
            self._cond.notify_all()

    def want_thumbs(self, pages: Sequence[int]) -> None:
        with self._cond:
            self._thumb_want = list(pages)
            self._cond.notify_all()

    def image(self, page: int, scale: float) -> QImage | None:
        return self.pages.get((self._generation, page, scale_key(scale)))

    def any_image(self, page: int) -> QImage | None:
        """Some rendering of ``page`` at any scale (shown stretched until the right one arrives)."""
        for key in reversed(self.pages.keys()):
            if isinstance(key, tuple) and key[0] == self._generation and key[1] == page:
                return self.pages.get(key)
        return None

    def thumb(self, page: int) -> QImage | None:
        return self.thumbs.get((self._generation, page))

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(5)
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    def call(self, op: str, kw: dict[str, object] | None = None) -> object:
        """Run another engine operation in the render process (from a worker thread): opening
        the document and reading its page sizes there keeps it warm for rendering."""
        return self._engine_process().call(op, kw)

    def warm_up(self) -> None:
        """Start the render process now (after the window is shown), so the first page does
        not wait for it."""
        with self._cond:
            self._warm = True
            self._cond.notify_all()

    # -- the render thread ------------------------------------------------------------------------
    def _next(self) -> tuple[int, str, int, float, bool] | None:
        """(generation, path, page, scale, is_thumb) of the most urgent missing page."""
        if self._path is None:
            return None
        gen = self._generation
        key = scale_key(self._want_scale)
        for page in self._want:
            if (gen, page, key) not in self.pages:
                return gen, self._path, page, key / 100.0, False
        for page in self._thumb_want:
            if (gen, page) not in self.thumbs:
                return gen, self._path, page, self.thumb_scale, True
        return None

    def _engine_process(self) -> EngineProcess:
        with self._engine_lock:
            if self._engine is None or not self._engine.alive:
                self._engine = EngineProcess("render")
            return self._engine

    def _loop(self) -> None:
        while True:
            with self._cond:
                job = self._next()
                while job is None and not self._stop:
                    if self._warm:
                        self._warm = False
                        break
                    self._cond.wait()
                    job = self._next()
                if self._stop:
                    return
            if job is None:  # warm-up only
                self._engine_process()
                continue
            gen, path, page, scale, is_thumb = job
            try:
                w, h, line, data = self._engine_process().call(
                    "render", {"path": path, "page": page, "scale": scale})
                image = image_from_rows(w, h, line, data)
            except BidSealError as exc:
                with self._cond:
                    if gen == self._generation:
                        # do not retry the same page forever: forget what was wanted
                        self._want = [p for p in self._want if p != page]
                        self._thumb_want = [p for p in self._thumb_want if p != page]
                self.failed.emit(exc)
                continue
            with self._cond:
                if gen != self._generation:
                    continue
                self.renders += 1
                if is_thumb:
                    self.thumbs.put((gen, page), image)
                else:
                    self.pages.put((gen, page, scale_key(scale)), image)
            if is_thumb:
                self.thumb_ready.emit(page)
            else:
                self.page_ready.emit(page, scale_key(scale))
