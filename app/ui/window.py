"""The main window: the sealing workspace.

Left: the UKey panel (keys, certificates, PIN state, the seal palette). Middle: page
thumbnails and the document. Right: the signature panel. Everything slow runs
through :attr:`MainWindow.runner` (worker threads) or in engine processes; this
class wires widgets, actions and flows together.

Extension points for later features (envelopes, batch, diagnostics, settings):
:attr:`MainWindow.tools_menu` / :meth:`MainWindow.add_tool_action`, the shared
:attr:`MainWindow.settings` (the shared :class:`app.settings.Settings`; a settings dialog saves
with :func:`app.settings.save` and calls :meth:`MainWindow.apply_settings`), :attr:`MainWindow.state`
(recent files, seal size), :attr:`MainWindow.runner`
and :meth:`MainWindow.show_error`. The web-page review entry point is
:meth:`MainWindow.open_for_review`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import settings as app_settings
from app.errors import BidSealError
from app.ui import i18n
from app.ui.i18n import error_text, tr
from app.ui.keywatch import KeyWatcher
from app.ui.models.document import (
    CrossPageSeal,
    DocInfo,
    PageInfo,
    SealChoice,
    default_output_path,
    png_size,
)
from app.ui.models.keys import IdentityView, PinView, pin_view
from app.ui.models.signatures import SignatureView, VerificationView
from app.ui.render import PageRenderer
from app.ui.runner import TaskContext, TaskHandle, TaskRunner
from app.ui.state import WindowState
from app.ui.widgets.banner import Banner
from app.ui.widgets.common import language_signal, switch_language
from app.ui.widgets.keypanel import KeyPanel
from app.ui.widgets.searchbar import SearchBar
from app.ui.widgets.sigpanel import SignaturePanel
from app.ui.widgets.thumbnails import ThumbnailStrip
from app.ui.widgets.viewer import DocumentView
from app.ui.wire import error_from_wire

if TYPE_CHECKING:  # dialogs and flows are imported when first used: a faster start
    from app.ui.dialogs.crosspage_dialog import CrossPageDialog
    from app.ui.dialogs.error_dialog import ErrorDialog
    from app.ui.dialogs.keyword_dialog import KeywordDialog
    from app.ui.dialogs.placement_common import PreviewDialog
    from app.ui.key_actions import KeyActions
    from app.ui.review import ReviewHints, ReviewSession
    from app.ui.signing import SigningFlow

ZOOM_PRESETS: tuple[tuple[str, str, float | str], ...] = (
    ("适合宽度", "Fit width", "width"),
    ("适合页面", "Fit page", "page"),
    ("50%", "50%", 0.5),
    ("75%", "75%", 0.75),
    ("100%", "100%", 1.0),
    ("125%", "125%", 1.25),
    ("150%", "150%", 1.5),
    ("200%", "200%", 2.0),
    ("300%", "300%", 3.0),
    ("400%", "400%", 4.0),
)


class MainWindow(QMainWindow):
    document_opened = Signal(object)  # DocInfo
    verification_ready = Signal(object)  # VerificationView
    signed = Signal(str)  # output path

    def __init__(self, settings: app_settings.Settings | None = None, *, state: WindowState | None = None,
                 monitor_keys: bool = True, scan_keys: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        #: The user's settings: the one file shared with the CLI (app.settings).
        self.settings = settings if settings is not None else app_settings.load()
        #: What the window remembers between runs (recent files, seal size).
        self.state = state if state is not None else WindowState.load()
        self._state_lock = threading.Lock()
        self._state_seq = self._state_written = 0
        i18n.set_language(self.settings.language)
        self.runner = TaskRunner(self)
        self.renderer = PageRenderer(self)
        self.keys = KeyWatcher(self.runner, self, monitor=monitor_keys)
        self._key_actions: KeyActions | None = None
        #: Extra trusted roots (DER) for the signature panel, besides the configured trust store.
        self.trust_roots_der: list[bytes] = []
        self.doc: DocInfo | None = None
        self.verification: VerificationView | None = None
        self.file_seals: list[SealChoice] = []
        self.flow: SigningFlow | None = None
        self.review: ReviewSession | None = None
        self.placement_dialog: PreviewDialog | None = None
        self.last_notice = ""
        self.last_error: BaseException | None = None
        self._open_task: TaskHandle | None = None
        self._aux_tasks: list[TaskHandle] = []
        self._preview_items: list[Any] = []
        self._build()
        self.retranslate()
        language_signal().changed.connect(self._language_changed)
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        # Processes (token host, render and engine processes) start once the window is on screen.
        if scan_keys:
            QTimer.singleShot(50, self, self.keys.rescan)
        QTimer.singleShot(50, self, self._warm_up)

    # -- construction ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.viewer = DocumentView(self.renderer)
        self.viewer.seal_size_mm = self.state.seal_size_mm
        self.thumbs = ThumbnailStrip(self.renderer)
        self.banner = Banner()
        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("QLabel{background:#5f6368;color:#f1f3f4;font-size:15pt;padding:40px}")
        split = QWidget()
        row = QHBoxLayout(split)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.thumbs)
        row.addWidget(self.viewer, 1)
        self.split = split
        center = QWidget()
        box = QVBoxLayout(center)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.banner)
        box.addWidget(self.empty, 1)
        box.addWidget(split, 1)
        self.setCentralWidget(center)

        self.key_panel = KeyPanel()
        self.key_dock = self._dock(self.key_panel, "keyDock", Qt.DockWidgetArea.LeftDockWidgetArea, 300, 360)
        self.sig_panel = SignaturePanel()
        self.sig_dock = self._dock(self.sig_panel, "signatureDock", Qt.DockWidgetArea.RightDockWidgetArea, 280, 420)
        self.resizeDocks([self.key_dock, self.sig_dock], [320, 300], Qt.Orientation.Horizontal)

        self._actions()
        self._menus()
        self._toolbar()
        from app.ui.bid_actions import BidActions  # part 2: envelopes, batch, diagnostics, settings

        self.bid_actions = BidActions(self)
        self.status_doc = QLabel()
        self.statusBar().addPermanentWidget(self.status_doc)

        self.keys.changed.connect(self._keys_changed)
        self.keys.scanning.connect(self.key_panel.set_scanning)
        self.key_panel.identity_selected.connect(self._identity_selected)
        self.key_panel.refresh_requested.connect(self.keys.rescan)
        self.key_panel.change_pin_requested.connect(lambda: self.key_actions.change_pin())
        self.key_panel.unblock_requested.connect(lambda: self.key_actions.unblock())
        self.key_panel.certificate_requested.connect(self.key_actions.certificate)
        self.key_panel.add_image_requested.connect(self.choose_seal_image)
        self.key_panel.keyword_requested.connect(lambda: self.keyword_dialog())
        self.key_panel.cross_page_requested.connect(lambda: self.cross_page_dialog())
        palette = self.key_panel.palette_
        palette.seal_dropped.connect(self.viewer.drop_seal)
        palette.seal_activated.connect(self._place_in_middle)
        self.viewer.notice.connect(self.notify)
        self.viewer.plan_changed.connect(self._plan_changed)
        self.viewer.current_page_changed.connect(self._page_changed)
        self.viewer.zoom_changed.connect(self._zoom_changed)
        self.thumbs.page_clicked.connect(self.viewer.go_to_page)
        self.sig_panel.signature_clicked.connect(self.show_signature)
        self.renderer.failed.connect(lambda exc: self.notify(error_text(exc)))
        self.banner.accepted.connect(self._banner_accepted)
        self.banner.declined.connect(self.decline_review)
        self._show_empty(True)

    def _dock(self, panel: QWidget, name: str, area: Qt.DockWidgetArea, least: int, most: int) -> QDockWidget:
        """A fixed side panel (the panels carry their own titles)."""
        dock = QDockWidget()
        dock.setObjectName(name)
        dock.setWidget(panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setTitleBarWidget(QWidget())
        dock.setMinimumWidth(least)
        dock.setMaximumWidth(most)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, name: str, slot: Any, shortcut: QKeySequence | str | None = None) -> QAction:
        action = QAction(self)
        action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def _actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_open = self._action("actOpen", self.choose_file, K.Open)
        self.act_close = self._action("actClose", self.close_document, K.Close)
        self.act_sign = self._action("actSign", self.sign, "Ctrl+Return")
        self.act_sign_as = self._action("actSignAs", self.sign_as, K.SaveAs)
        self.act_quit = self._action("actQuit", self.close, K.Quit)
        self.act_fit_width = self._action("actFitWidth", lambda: self.viewer.set_zoom("width"))
        self.act_fit_page = self._action("actFitPage", lambda: self.viewer.set_zoom("page"))
        self.act_zoom_in = self._action("actZoomIn", self.viewer.zoom_in, K.ZoomIn)
        self.act_zoom_out = self._action("actZoomOut", self.viewer.zoom_out, K.ZoomOut)
        self.act_actual = self._action("actActual", lambda: self.viewer.set_zoom(1.0), "Ctrl+0")
        self.act_prev = self._action("actPrev", lambda: self.viewer.go_to_page(self.viewer.current_page - 1),
                                     "Ctrl+Up")
        self.act_next = self._action("actNext", lambda: self.viewer.go_to_page(self.viewer.current_page + 1),
                                     "Ctrl+Down")
        self.act_find = self._action("actFind", self._focus_search, K.Find)
        self.act_keyword = self._action("actKeyword", lambda: self.keyword_dialog())
        self.act_cross = self._action("actCross", lambda: self.cross_page_dialog())
        self.act_remove = self._action("actRemoveSeal", self.viewer.remove_selected, K.Delete)
        self.act_clear = self._action("actClearSeals", self.viewer.clear_seals)
        self.act_refresh_keys = self._action("actRefreshKeys", self.keys.rescan, "F5")
        self.act_about = self._action("actAbout", self.about)
        self.act_zh = self._action("actLangZh", lambda: self.set_language("zh"))
        self.act_en = self._action("actLangEn", lambda: self.set_language("en"))
        group = QActionGroup(self)
        for a in (self.act_zh, self.act_en):
            a.setCheckable(True)
            group.addAction(a)
        (self.act_en if i18n.language() == "en" else self.act_zh).setChecked(True)

    def _menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.file_menu.addAction(self.act_open)
        self.recent_menu = QMenu(self)
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.file_menu.addMenu(self.recent_menu)
        self.file_menu.addAction(self.act_close)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_sign)
        self.file_menu.addAction(self.act_sign_as)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_quit)
        self.view_menu = bar.addMenu("")
        for a in (self.act_fit_width, self.act_fit_page, self.act_actual, self.act_zoom_in, self.act_zoom_out):
            self.view_menu.addAction(a)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.act_prev)
        self.view_menu.addAction(self.act_next)
        self.view_menu.addAction(self.act_find)
        self.seal_menu = bar.addMenu("")
        for a in (self.act_sign, self.act_keyword, self.act_cross, self.act_remove, self.act_clear):
            self.seal_menu.addAction(a)
        #: Extension point: later features add their actions here (add_tool_action).
        self.tools_menu = bar.addMenu("")
        self.tools_menu.setObjectName("toolsMenu")
        self.tools_menu.addAction(self.act_refresh_keys)
        self.lang_menu = bar.addMenu("")
        self.lang_menu.addAction(self.act_zh)
        self.lang_menu.addAction(self.act_en)
        self.help_menu = bar.addMenu("")
        self.help_menu.addAction(self.act_about)

    def _toolbar(self) -> None:
        tb = QToolBar()
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(tb)
        self.toolbar = tb
        tb.addAction(self.act_open)
        tb.addSeparator()
        tb.addAction(self.act_prev)
        self.page_spin = QSpinBox()
        self.page_spin.setObjectName("pageSpin")
        self.page_spin.setRange(0, 0)
        self.page_spin.setKeyboardTracking(False)
        self.page_spin.valueChanged.connect(lambda v: self.viewer.go_to_page(v - 1) if v > 0 else None)
        self.page_spin.setEnabled(False)
        tb.addWidget(self.page_spin)
        self.page_total = QLabel(" / 0 ")
        tb.addWidget(self.page_total)
        tb.addAction(self.act_next)
        tb.addSeparator()
        self.zoom_box = QComboBox()
        self.zoom_box.setObjectName("zoomBox")
        self.zoom_box.setEditable(True)
        self.zoom_box.setMinimumWidth(110)
        self.zoom_box.activated.connect(self._zoom_chosen)
        self.zoom_box.lineEdit().returnPressed.connect(self._zoom_typed)
        tb.addWidget(self.zoom_box)
        tb.addAction(self.act_zoom_out)
        tb.addAction(self.act_zoom_in)
        tb.addSeparator()
        self.search = SearchBar(self.runner, self.viewer, lambda: self.doc.path if self.doc else None)
        tb.addWidget(self.search)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding,
                             spacer.sizePolicy().verticalPolicy().Preferred)
        tb.addWidget(spacer)
        tb.addAction(self.act_sign)
        sign_button = tb.widgetForAction(self.act_sign)
        sign_button.setObjectName("signButton")
        sign_button.setStyleSheet("QToolButton{background:#c62828;color:white;font-weight:600;padding:4px 14px;"
                                  "border-radius:3px} QToolButton:disabled{background:#bdbdbd;color:#f5f5f5}")

    def retranslate(self) -> None:
        t = tr
        self.setWindowTitle(self._title())
        self.file_menu.setTitle(t("文件(&F)", "&File"))
        self.view_menu.setTitle(t("视图(&V)", "&View"))
        self.seal_menu.setTitle(t("签章(&S)", "&Seal"))
        self.tools_menu.setTitle(t("工具(&T)", "&Tools"))
        self.lang_menu.setTitle(t("语言 / Language", "Language / 语言"))
        self.help_menu.setTitle(t("帮助(&H)", "&Help"))
        self.recent_menu.setTitle(t("最近打开", "Recent files"))
        texts = {
            self.act_open: t("打开…", "Open…"), self.act_close: t("关闭文档", "Close document"),
            self.act_sign: self._sign_text(), self.act_sign_as: t("签章并另存为…", "Sign and save as…"),
            self.act_quit: t("退出", "Quit"), self.act_fit_width: t("适合宽度", "Fit width"),
            self.act_fit_page: t("适合页面", "Fit page"), self.act_zoom_in: t("放大", "Zoom in"),
            self.act_zoom_out: t("缩小", "Zoom out"), self.act_actual: t("实际大小", "Actual size"),
            self.act_prev: t("上一页", "Previous page"), self.act_next: t("下一页", "Next page"),
            self.act_find: t("查找", "Find"), self.act_keyword: t("按关键字盖章…", "Seal at keyword…"),
            self.act_cross: t("骑缝章…", "Cross-page seal…"),
            self.act_remove: t("删除选中的印章", "Remove selected seal"),
            self.act_clear: t("清除全部印章", "Remove all seals"),
            self.act_refresh_keys: t("重新检测 UKey", "Look for keys again"),
            self.act_about: t("关于 BidSeal", "About BidSeal"),
            self.act_zh: "中文", self.act_en: "English",
        }
        for action, text in texts.items():
            action.setText(text)
        self.act_prev.setToolTip(t("上一页", "Previous page"))
        self.key_dock.setWindowTitle(t("UKey", "UKey"))
        self.sig_dock.setWindowTitle(t("签名", "Signatures"))
        self.zoom_box.blockSignals(True)
        self.zoom_box.clear()
        for zh, en, _value in ZOOM_PRESETS:
            self.zoom_box.addItem(t(zh, en))
        self.zoom_box.blockSignals(False)
        self._zoom_changed(self.viewer.zoom)
        self.empty.setText(t(
            "把投标文件（PDF）拖到这里，或点“打开…”。\n\n插入 UKey 后，把左侧的印章拖到页面上，再点右上角“签章”。",
            "Drop a bid PDF here, or click “Open…”.\n\nWith your UKey inserted, drag a seal from the left onto "
            "a page, then click “Sign” at the top right."))
        for w in (self.key_panel, self.sig_panel, self.search):
            w.retranslate()
        self._update_banner()
        self._update_status()

    @property
    def key_actions(self) -> KeyActions:
        """Certificate and PIN actions of the UKey panel (made on first use)."""
        if self._key_actions is None:
            from app.ui.key_actions import KeyActions

            self._key_actions = KeyActions(self, self.runner)
        return self._key_actions

    def _language_changed(self, _lang: str) -> None:
        self.statusBar().clearMessage()  # a sentence in the other language would stay otherwise
        self.retranslate()

    # -- small helpers -----------------------------------------------------------------------------
    def _title(self) -> str:
        base = "BidSeal"
        if self.doc is not None:
            return f"{self.doc.name} — {base}"
        return f"{base} — {tr('投标文件签章', 'bid sealing workspace')}"

    def _sign_text(self) -> str:
        n = self.viewer.plan.count
        if n:
            return tr(f"签章（{n} 个印章）", f"Sign ({n} seal{'s' if n > 1 else ''})")
        return tr("签章", "Sign")

    def _show_empty(self, empty: bool) -> None:
        self.empty.setVisible(empty)
        self.split.setVisible(not empty)

    def notify(self, text: str) -> None:
        self.last_notice = text
        self.statusBar().showMessage(text, 8000)

    def show_error(self, exc: Any, title: str | None = None) -> ErrorDialog:
        """Show an error sentence (with details folded away); available to every dialog."""
        from app.ui.dialogs.error_dialog import show_error

        self.last_error = exc
        return show_error(self, exc, title)

    def add_tool_action(self, action: QAction) -> None:
        """Extension point for later features: an entry in the Tools menu."""
        self.tools_menu.addAction(action)

    def _warm_up(self) -> None:
        from app.ui.engine_client import engine_pool
        from app.ui.review import remove_stale_reviews

        self.renderer.warm_up()

        def housekeeping(ctx: TaskContext) -> None:
            from app.atomic import sweep_journal

            sweep_journal()  # temporary outputs abandoned by a run that was killed
            remove_stale_reviews()
            engine_pool().prewarm()

        self.runner.submit(housekeeping, name="warm-up")
        for _ in range(3):  # the worker threads exist before the first real task needs one
            self.runner.submit(lambda ctx: time.sleep(0.05), name="thread-warm-up")

    def _focus_search(self) -> None:
        self.search.edit.setFocus()
        self.search.edit.selectAll()

    # -- keys ---------------------------------------------------------------------------------------
    def _keys_changed(self, views: list[IdentityView], problems: list[str]) -> None:
        self.key_panel.set_identities(views, problems)
        self._refresh_palette()
        self._update_status()

    def _identity_selected(self, key_id: str) -> None:
        self._refresh_palette()
        self.refresh_pin()

    def current_identity(self) -> tuple[Any, IdentityView | None]:
        view = self.key_panel.current
        if view is None:
            return None, None
        return self.keys.identity(view.key_id), view

    def refresh_pin(self) -> None:
        identity, view = self.current_identity()
        if identity is None or view is None:
            return
        key_id = view.key_id

        def run(ctx: TaskContext) -> PinView:
            from app.ui import tokens

            return pin_view(tokens.pin_info(identity))

        def got(pin: PinView) -> None:
            if self.key_panel.current is not None and self.key_panel.current.key_id == key_id:
                self.key_panel.set_pin(pin)

        self.runner.submit(run, name="pin-info", on_result=got,
                           on_error=lambda exc: self.key_panel.set_pin(None))

    def unblock_pin(self) -> None:
        self.key_actions.unblock()

    def _refresh_palette(self) -> None:
        view = self.key_panel.current
        choices = list(view.seals) if view else []
        self.key_panel.palette_.set_choices(choices + self.file_seals)

    def seal_choices(self) -> list[SealChoice]:
        return list(self.key_panel.palette_.choices)

    def choose_seal_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择印章图片", "Choose a seal picture"), str(Path.home()),
                                              tr("图片 (*.png *.jpg *.jpeg)", "Pictures (*.png *.jpg *.jpeg)"))
        if path:
            self.add_seal_image(path)

    def add_seal_image(self, path: str | os.PathLike[str]) -> None:
        """Add a picture file to the palette (read on a worker thread)."""
        from PySide6.QtGui import QImage

        def read(ctx: TaskContext) -> bytes:
            return Path(path).read_bytes()

        def got(data: bytes) -> None:
            image = QImage.fromData(data)
            if image.isNull():
                self.show_error(BidSealError("该文件不是可用的图片（PNG 或 JPEG）。",
                                             "The file is not a usable picture (PNG or JPEG).",
                                             code="ERR_SEAL_IMAGE", details={"file": str(path)}))
                return
            w, h = png_size(data)
            if (w, h) == (1, 1):
                w, h = image.width(), image.height()
            name = Path(path).stem
            choice = SealChoice(key=f"file:{path}", label=(f"图片：{name}", f"Picture: {name}"), png=data,
                                width=w, height=h, source="file")
            self.file_seals = [c for c in self.file_seals if c.key != choice.key] + [choice]
            self._refresh_palette()

        def failed(exc: BidSealError) -> None:
            self.show_error(exc)

        def read_safe(ctx: TaskContext) -> bytes:
            try:
                return read(ctx)
            except OSError as exc:
                raise BidSealError("无法读取该图片文件。", "The picture file cannot be read.",
                                   code="ERR_SEAL_IMAGE", details={"file": str(path), "reason": str(exc)}) from exc

        self.runner.submit(read_safe, name="read-seal-image", on_result=got, on_error=failed)

    def _place_in_middle(self, choice: SealChoice) -> None:
        if self.doc is None:
            return
        from app.ui.models.document import centred_rect

        page = self.viewer.current_page
        info = self.viewer.page_info(page)
        self.viewer.place_seal(choice, page, centred_rect(info.width / 2, info.height / 2, choice,
                                                          self.viewer.seal_size_mm))

    # -- documents -----------------------------------------------------------------------------------
    def choose_file(self) -> None:
        start = str(Path(self.doc.path).parent) if self.doc else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, tr("打开投标文件", "Open a bid file"), start,
                                              tr("PDF 文件 (*.pdf);;所有文件 (*)", "PDF files (*.pdf);;All files (*)"))
        if path:
            self.open_file(path)

    def open_file(self, path: str | os.PathLike[str], *, verification: VerificationView | None = None,
                  keep_review: bool = False, then: Any = None, or_else: Any = None) -> TaskHandle:
        """Open ``path`` (the engine checks it: missing, empty, not a PDF, password...).

        The current document stays if the new one cannot be opened. ``then(info)`` /
        ``or_else(exc)`` run after the window took the result. They are wired before the task
        starts: the worker emits its signal from its own thread, so a slot connected to the
        returned handle afterwards can miss a fast open (a hub's keyword hint was lost that
        way under load)."""
        path = str(path)
        if self.review is not None and not keep_review and Path(path) != self.review.copy:
            self.decline_review("opened another file")
        if self._open_task is not None:
            self._open_task.cancel()

        def run(ctx: TaskContext) -> Any:
            return self.renderer.call("open", {"path": path})

        def opened(info: DocInfo) -> None:
            self._opened(info, verification)
            if then is not None:
                then(info)

        def failed(exc: BidSealError) -> None:
            self._open_failed(exc, path)
            if or_else is not None:
                or_else(exc)

        handle = self.runner.submit(run, name="open", on_result=opened, on_error=failed)
        self._open_task = handle
        return handle

    def _open_failed(self, exc: BidSealError, path: str) -> None:
        self.show_error(exc, tr(f"无法打开 {Path(path).name}", f"Cannot open {Path(path).name}"))

    def _opened(self, info: DocInfo, verification: VerificationView | None = None) -> None:
        for task in self._aux_tasks:
            task.cancel()
        self._aux_tasks = []
        self.doc = info
        self.verification = None
        self.search.reset()
        self._close_placement_dialog()
        self.viewer.set_document(info)
        self.thumbs.set_page_count(info.page_count)
        self.page_spin.blockSignals(True)
        self.page_spin.setEnabled(True)
        self.page_spin.setRange(1, info.page_count)
        self.page_spin.setValue(1)
        self.page_spin.blockSignals(False)
        self.page_total.setText(f" / {info.page_count} ")
        self._show_empty(False)
        if self.review is None or Path(info.path) != self.review.copy:
            self.state.add_recent(info.path)
            self._save_state()
        self.setWindowTitle(self._title())
        self._update_banner()
        self._update_status()
        if verification is not None:
            self._verified(verification)
        else:
            self.sig_panel.set_checking()
        # The first page is drawn before the background work starts competing for the CPU.
        self._after_first_page(info, verification is None)
        self.document_opened.emit(info)

    def _after_first_page(self, info: DocInfo, verify: bool) -> None:
        started = [False]

        def start(*_: Any) -> None:
            if started[0] or getattr(self, "_shut", False):
                return
            started[0] = True
            with contextlib.suppress(RuntimeError, TypeError):
                self.renderer.page_ready.disconnect(start)
            if self.doc is not info:
                return
            if info.page_count > len(info.pages):
                self._load_geometry(info)
            if verify:
                self._verify(info.path)

        self.renderer.page_ready.connect(start)
        QTimer.singleShot(400, self, start)  # cancelled if the window goes first

    def _load_geometry(self, info: DocInfo) -> None:
        path, start, total = info.path, len(info.pages), info.page_count

        def run(ctx: TaskContext) -> int:
            from app.ui.engine_ops import GEOMETRY_CHUNK

            at = start
            while at < total and not ctx.cancel.is_set():
                ctx.partial(ctx.engine("geometry", {"path": path, "start": at, "count": GEOMETRY_CHUNK}))
                at += GEOMETRY_CHUNK
            return at

        def partial(pages: Sequence[PageInfo]) -> None:
            if self.doc is not None and self.doc.path == path:
                self.viewer.update_pages(pages)

        self._aux_tasks.append(self.runner.submit(run, name="geometry", on_partial=partial))

    def _verify(self, path: str) -> None:
        self.sig_panel.set_checking()
        roots = list(self.trust_roots_der)

        def run(ctx: TaskContext) -> VerificationView:
            return ctx.engine("verify", {"path": path, "extra_roots": roots})

        def failed(exc: BidSealError) -> None:
            if self.doc is not None and self.doc.path == path:
                self.sig_panel.set_error(error_text(exc))

        def done(view: VerificationView) -> None:
            if self.doc is not None and self.doc.path == path:
                self._verified(view)

        self._aux_tasks.append(self.runner.submit(run, name="verify", on_result=done, on_error=failed))

    def _verified(self, view: VerificationView) -> None:
        self.verification = view
        self.sig_panel.set_view(view)
        self.verification_ready.emit(view)

    def reverify(self) -> None:
        if self.doc is not None:
            self._verify(self.doc.path)

    def close_document(self) -> None:
        if self.review is not None:
            self.decline_review("closed")
        self.doc = None
        self.verification = None
        self.search.reset()
        self.viewer.set_document(None)
        self.thumbs.set_page_count(0)
        self.sig_panel.set_empty()
        self.page_spin.setRange(0, 0)
        self.page_total.setText(" / 0 ")
        self.page_spin.setEnabled(False)
        self._show_empty(True)
        self.setWindowTitle(self._title())
        self._update_banner()
        self._update_status()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.state.recent_files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        if not self.state.recent_files:
            empty = self.recent_menu.addAction(tr("（无）", "(none)"))
            empty.setEnabled(False)

    def _save_state(self) -> None:
        """Write the window state on a worker thread (the UI thread never waits on the disk),
        in order: an older snapshot never overwrites a newer one."""
        import copy

        snapshot = copy.deepcopy(self.state)
        self._state_seq += 1
        seq = self._state_seq

        def save(ctx: TaskContext) -> None:
            try:
                with self._state_lock:
                    if seq > self._state_written:
                        snapshot.save()
                        self._state_written = seq
            except OSError as exc:
                raise BidSealError("无法保存最近打开的文件列表。", "The list of recent files could not be saved.",
                                   code="ERR_SETTINGS_FILE", details={"reason": str(exc)}) from exc

        self.runner.submit(save, name="save-state", on_error=lambda exc: self.notify(error_text(exc)))

    # -- view state ------------------------------------------------------------------------------------
    def _page_changed(self, page: int) -> None:
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(page + 1)
        self.page_spin.blockSignals(False)
        self.thumbs.set_current(page)

    def _zoom_changed(self, zoom: float) -> None:
        mode = self.viewer.zoom_mode
        if mode == "width":
            text = tr("适合宽度", "Fit width")
        elif mode == "page":
            text = tr("适合页面", "Fit page")
        else:
            text = f"{round(zoom * 100)}%"
        self.zoom_box.setEditText(text)

    def _zoom_chosen(self, index: int) -> None:
        if 0 <= index < len(ZOOM_PRESETS):
            self.viewer.set_zoom(ZOOM_PRESETS[index][2])

    def _zoom_typed(self) -> None:
        text = self.zoom_box.currentText().strip().rstrip("%")
        try:
            self.viewer.set_zoom(float(text) / 100.0)
        except ValueError:
            self._zoom_changed(self.viewer.zoom)

    def _plan_changed(self) -> None:
        self.act_sign.setText(self._sign_text())
        self._update_status()

    def _update_status(self) -> None:
        if self.doc is None:
            self.status_doc.setText("")
            self.act_sign.setEnabled(False)
            self.act_sign_as.setEnabled(False)
            return
        n = self.viewer.plan.count
        self.status_doc.setText(tr(f"{self.doc.page_count} 页 · 已放置 {n} 个印章",
                                   f"{self.doc.page_count} pages · {n} seal(s) placed"))
        can = self.doc.sealable and n > 0 and (self.flow is None or self.flow.done)
        self.act_sign.setEnabled(can)
        self.act_sign_as.setEnabled(can and self.review is None)

    def _update_banner(self) -> None:
        if self.review is not None:
            self.banner.show_message(
                tr(f"网站 {self.review.origin} 请求您为此文件签章。请核对文件内容、放置印章后点击“"
                   f"{self._review_button()[0]}”；不同意请点击“拒绝”。BidSeal 只签署此处显示的文件。",
                   f"The web site {self.review.origin} asks you to seal this file. Check it, place your seals, "
                   f"then click “{self._review_button()[1]}”; click “Decline” if you do not agree. BidSeal "
                   "signs exactly the file shown here."),
                "review", tr(*self._review_button()), tr("拒绝", "Decline"))
        elif self.doc is not None and not self.doc.sealable and self.doc.refusal is not None:
            err = error_from_wire(self.doc.refusal)
            self.banner.show_message(tr("此文件只能查看，不能签章：", "This file can be viewed but not sealed: ")
                                     + error_text(err), "warn")
        else:
            self.banner.clear()

    def _review_button(self) -> tuple[str, str]:
        if self.review is not None and not self.review.sign:
            return "确认盖章位置", "Confirm the seal positions"
        return "签章并返回", "Sign and return"

    def about(self) -> None:
        from app import __version__

        box = QMessageBox(self)
        box.setWindowTitle(tr("关于 BidSeal", "About BidSeal"))
        box.setText(tr(f"BidSeal {__version__}\n投标 UKey 签章与解密客户端（SM2/SM3/SM4，GM/T 0016 SKF）。",
                       f"BidSeal {__version__}\nThe bidder's UKey client for sealing and decryption "
                       "(SM2/SM3/SM4, GM/T 0016 SKF)."))
        box.open()

    def set_language(self, lang: str) -> None:
        """Switch the window's language and remember it in the shared settings."""
        value = "en" if str(lang).lower().startswith("en") else "zh_CN"
        if value != self.settings.language:
            self.settings = replace(self.settings, language=value)

            def save(ctx: TaskContext) -> None:
                app_settings.update(language=value)

            self.runner.submit(save, name="save-language", on_error=lambda exc: self.notify(error_text(exc)))
        self._apply_language()

    def apply_settings(self, settings: app_settings.Settings) -> None:
        """Use settings a dialog has just saved (language, output folder and naming)."""
        self.settings = settings
        self._apply_language()

    def _apply_language(self) -> None:
        lang = "en" if self.settings.language == "en" else "zh"
        (self.act_en if lang == "en" else self.act_zh).setChecked(True)
        if i18n.language() != lang:
            switch_language(lang)

    # -- signatures --------------------------------------------------------------------------------------
    def show_signature(self, sig: SignatureView) -> None:
        """Jump to a signature's seal and highlight it."""
        if sig.spots:
            self.viewer.highlight(sig.spots)
        elif sig.pages:
            self.viewer.go_to_page(sig.pages[0] - 1)
            self.viewer.highlight(())

    # -- placing seals -------------------------------------------------------------------------------------
    def _need_document(self) -> bool:
        if self.doc is None:
            self.notify(tr("请先打开一个 PDF 文件。", "Open a PDF file first."))
            return False
        if not self.seal_choices():
            self.notify(tr("没有可用的印章：请插入带印章的 UKey，或添加图片印章。",
                           "No seal available: insert a key with seals, or add a seal picture."))
            return False
        return True

    def _close_placement_dialog(self) -> None:
        if self.placement_dialog is not None:
            self.placement_dialog.reject()
        self._clear_preview()

    def _clear_preview(self) -> None:
        for item in self._preview_items:
            if item.scene() is not None:
                item.scene().removeItem(item)
        self._preview_items = []

    def _preview(self, dialog: PreviewDialog, spec: dict[str, Any], choice: SealChoice) -> None:
        path = self.doc.path if self.doc else None
        self._clear_preview()
        if path is None:
            return

        def run(ctx: TaskContext) -> Any:
            return ctx.engine("preview", {"path": path, "spec": spec, "image_size": (choice.width, choice.height)})

        def got(spots: list[Any]) -> None:
            self._show_preview(spots, choice)
            dialog.show_preview(spots)
            if spots and spots[0]:
                page, rect, _strip = spots[0][0]
                self.viewer.ensure_rect_visible(page, rect)

        self.runner.submit(run, name="preview", on_result=got, on_error=dialog.show_error)

    def _show_preview(self, spots: list[Any], choice: SealChoice) -> None:
        from app.ui.widgets.common import pixmap_from_png
        from app.ui.widgets.viewer import StripItem

        self._clear_preview()
        pix = pixmap_from_png(choice.png)
        for sig in spots:
            for page, rect, strip in sig:
                if 0 <= page < self.viewer.page_count:
                    self._preview_items.append(StripItem(self.viewer.page_items[page], rect, strip, pix))

    def keyword_dialog(self, keyword: str | None = None, occurrence: int | None = None) -> KeywordDialog | None:
        if not self._need_document():
            return None
        self._close_placement_dialog()
        from app.ui.dialogs.keyword_dialog import KeywordDialog

        dialog = KeywordDialog(self.seal_choices(), self, seal_size_mm=self.state.seal_size_mm,
                               **({"keyword": keyword} if keyword else {}))
        if occurrence is not None:
            dialog.nth.setChecked(True)
            dialog.number.setValue(occurrence)
        def accepted() -> None:
            choice = dialog.choice
            spots = dialog.spots or []
            self._clear_preview()
            if choice is not None:
                for sig in spots:
                    for page, rect, _strip in sig:
                        self.viewer.place_seal(choice, page, rect, origin="keyword")
                self.notify(tr(f"已按关键字放置 {len(spots)} 个印章。", f"Placed {len(spots)} seal(s) at the keyword."))

        self._show_placement_dialog(dialog, accepted)
        return dialog

    def _show_placement_dialog(self, dialog: PreviewDialog, accepted: Any) -> None:
        """Non-blocking: the bidder scrolls the pages to see the preview while it is open."""
        dialog.preview_requested.connect(lambda spec, choice: self._preview(dialog, spec, choice))
        dialog.accepted.connect(accepted)
        dialog.rejected.connect(self._clear_preview)
        dialog.finished.connect(lambda _c: setattr(self, "placement_dialog", None))
        self.placement_dialog = dialog
        dialog.show()

    def cross_page_dialog(self) -> CrossPageDialog | None:
        if not self._need_document():
            return None
        assert self.doc is not None
        if self.doc.page_count < 2:
            self.notify(tr("骑缝章至少需要两页。", "A cross-page seal needs at least two pages."))
            return None
        self._close_placement_dialog()
        from app.ui.dialogs.crosspage_dialog import CrossPageDialog

        dialog = CrossPageDialog(self.seal_choices(), self.doc.page_count, self)

        def accepted() -> None:
            choice, spec, spots = dialog.choice, dialog.spec(), dialog.spots or []
            self._clear_preview()
            if choice is None or spec is None:
                return
            cross = CrossPageSeal(choice, pages=spec["pages"], size_mm=spec["size_mm"], center_y=spec["center_y"],
                                  pages_per_seal=spec["pages_per_seal"])
            self.viewer.set_cross_page(cross, spots)
            self.notify(tr("骑缝章已加入，签章时一并加盖。", "The cross-page seal was added; it is applied when you sign."))

        self._show_placement_dialog(dialog, accepted)
        return dialog

    # -- signing ---------------------------------------------------------------------------------------------
    def default_output(self) -> Path | None:
        """``<name>-已签章.pdf`` beside the original (the review folder for a web request)."""
        if self.doc is None:
            return None
        if self.review is not None:
            return self.review.output
        return self._sealed_output(self.doc.path)

    def _sealed_output(self, src: str) -> Path:
        """The shared settings' name and folder for a sealed copy (by default
        ``<stem>-已签章.pdf`` beside the original), numbered when taken; never the original.
        Reads the settings file and looks at the disk: called on a worker thread."""
        return default_output_path(src, app_settings.load().output_path("sealed", src))

    def sign_as(self) -> SigningFlow | None:
        if self.doc is None:
            return None
        default = self.default_output()
        path, _ = QFileDialog.getSaveFileName(self, tr("签章文件另存为", "Save the sealed file as"),
                                              str(default), tr("PDF 文件 (*.pdf)", "PDF files (*.pdf)"))
        if not path:
            return None
        return self.sign(path)

    def sign(self, output_path: str | os.PathLike[str] | None = None) -> SigningFlow | None:
        """Sign every placed seal into a new file (default ``<name>-已签章.pdf`` beside the original)."""
        if self.doc is None:
            self.notify(tr("请先打开一个 PDF 文件。", "Open a PDF file first."))
            return None
        if self.flow is not None and not self.flow.done:
            return self.flow
        if not self.doc.sealable and self.doc.refusal is not None:
            self.show_error(error_from_wire(self.doc.refusal))
            return None
        identity, view = self.current_identity()
        src = self.doc.path
        review = self.review
        def default() -> Path:  # on the worker thread: it reads the settings and looks at the disk
            return self._sealed_output(src)

        out: Any = str(output_path) if output_path else str(review.output) if review is not None else default
        from app.ui.signing import SigningFlow

        flow = SigningFlow(self, self.runner, identity, view, self.viewer.plan.to_specs(), src, out,
                           extra_roots=self.trust_roots_der,
                           input_check=review.check_unchanged if review is not None else None)
        self.flow = flow
        flow.finished.connect(self._signed)
        flow.start()
        self._update_status()
        return flow

    def _signed(self, result: dict[str, Any] | None, error: BidSealError | None) -> None:
        self._update_status()
        self.refresh_pin()
        if error is not None:
            self.last_error = error
            if error.code != "ERR_CANCELLED":
                self.notify(tr("签章未完成，原文件没有改动，未生成签章文件。",
                               "Sealing did not complete; the original is unchanged and no sealed file was written."))
            else:
                self.notify(error_text(error))
            return
        assert result is not None
        output = result["output"]
        review = self.review
        self.notify(tr(f"已签章并从磁盘验证通过：{output}", f"Sealed and verified from disk: {output}"))
        self.signed.emit(output)
        if review is not None:
            self.review = None
            self._update_banner()
            review.finish(output, None)
        view = result.get("verification")

        def select_new(_info: Any) -> None:
            fields = set(result.get("fields") or [])
            if self.verification is not None:
                rows = [i for i, s in enumerate(self.verification.signatures) if s.field_name in fields]
                if rows:
                    self.sig_panel.select(rows[0])

        self.open_file(output, verification=view, then=select_new)

    # -- review requests from the localhost helper --------------------------------------------------------------
    def open_for_review(self, pdf_path: str | os.PathLike[str], hints: Mapping[str, Any] | ReviewHints | None = None,
                        on_done: Any = None, *, origin: str = "", sign: bool = True) -> TaskHandle:
        """Show a PDF a web page sent, for the bidder to review, seal and sign - or decline.

        :param pdf_path: the PDF received (it is copied to a private folder; that copy is
            what is shown and what is signed).
        :param hints: ``{"keyword": str, "occurrence": int, "page": int}`` (all optional, 1-based):
            a keyword pre-fills the keyword dialog and previews its hits; a page is shown first.
            Hints never place or sign anything by themselves.
        :param on_done: ``on_done(signed_path, None)`` after a verified signature, or
            ``on_done(None, error)`` when the bidder declines, closes the file, opens another
            one, closes the window, or the file cannot be opened. Called exactly once, on the
            UI thread.
        :param origin: the web site that asked (shown in the banner).
        :param sign: False for review only: the bidder places the seals and confirms, and
            ``on_done(ReviewedPlacements, None)`` hands back where they go (plain placement
            specs, displayed page coordinates, as :meth:`SealingPlan.to_specs`) for a caller
            that seals the file itself; nothing is signed here and no PIN is asked.
        """
        if self.review is not None:
            self.decline_review("replaced by a new request")

        from app.ui.review import ReviewSession

        def prepare(ctx: TaskContext) -> ReviewSession:
            return ReviewSession.prepare(pdf_path, origin, hints, on_done, sign=sign)

        def ready(session: ReviewSession) -> None:
            self.review = session
            self.open_file(session.copy, keep_review=True, then=lambda _info: self._apply_hints(session),
                           or_else=lambda exc: self._review_failed(session, exc))
            self.raise_()
            self.activateWindow()

        def failed(exc: BidSealError) -> None:
            self.show_error(exc)
            if on_done is not None:
                on_done(None, exc)

        def prepare_safe(ctx: TaskContext) -> ReviewSession:
            try:
                return prepare(ctx)
            except OSError as exc:
                raise BidSealError("无法读取网页发送的文件。", "The file sent by the web page cannot be read.",
                                   code="ERR_REVIEW_INPUT", details={"reason": str(exc)}) from exc

        return self.runner.submit(prepare_safe, name="review-prepare", on_result=ready, on_error=failed)

    def _banner_accepted(self) -> None:
        if self.review is not None and not self.review.sign:
            self.confirm_review()
        else:
            self.sign()

    def confirm_review(self) -> None:
        """Review-only requests: hand the confirmed placements back (the shown copy is checked
        unchanged first)."""
        session = self.review
        if session is None:
            return
        specs = self.viewer.plan.to_specs()
        if not specs:
            self.notify(tr("请先放置印章，再确认。", "Place the seals first, then confirm."))
            return
        from app.ui.review import ReviewedPlacements

        def check(ctx: TaskContext) -> ReviewedPlacements:
            session.check_unchanged()
            return ReviewedPlacements(session.source, session.digest, tuple(specs))

        def done(result: ReviewedPlacements) -> None:
            if self.review is session:
                self.review = None
                self._update_banner()
                self._update_status()
            session.finish(result, None)  # type: ignore[arg-type]
            self.notify(tr("已确认盖章位置。", "The seal positions were confirmed."))

        self.runner.submit(check, name="review-confirm", on_result=done, on_error=self.show_error)

    def _review_failed(self, session: ReviewSession, exc: BidSealError) -> None:
        if self.review is session:
            self.review = None
            self._update_banner()
        session.finish(None, exc)

    def _apply_hints(self, session: ReviewSession) -> None:
        if self.review is not session:
            return
        self._update_banner()
        self._update_status()
        hints = session.hints
        if hints.page is not None and self.doc is not None:
            self.viewer.go_to_page(min(hints.page, self.doc.page_count) - 1)
        if hints.keyword:
            dialog = self.keyword_dialog(hints.keyword, hints.occurrence)
            if dialog is not None:
                dialog.request_preview()

    def decline_review(self, why: str = "declined") -> None:
        session, self.review = self.review, None
        if session is None:
            return
        self._update_banner()
        self._update_status()
        from app.ui.review import ReviewDeclined

        session.finish(None, ReviewDeclined(why))
        if why == "declined":
            self.notify(tr("已拒绝该网页的签章请求。", "The web page's request was declined."))

    # -- window events -----------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def open_any(self, path: str | os.PathLike[str]) -> None:
        """Open what a bidder hands the window (drop, command line, file manager's "Open
        with", a second launch): a ``.bse`` envelope opens the decrypt dialog, anything
        else is opened as a document."""
        if not self.bid_actions.open_dropped(path):
            self.open_file(path)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_any(files[0])
            if len(files) > 1:
                self.notify(tr("一次只能打开一个文件，已打开第一个。", "One file at a time: the first one was opened."))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.drop_pending("window closed")
        self.shutdown()
        super().closeEvent(event)

    def drop_pending(self, why: str) -> None:
        """The bidder closed the window (or put it away to the tray): a signing in progress
        is cancelled and a web page waiting for a review gets its refusal."""
        if self.flow is not None and not self.flow.done:
            self.flow.cancel()
        self.decline_review(why)

    def bring_to_front(self) -> None:
        """Show the window (also when hidden to the tray or minimized) above the others."""
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def shutdown(self) -> None:
        """Stop the monitor, the renderer and running tasks (idempotent)."""
        if getattr(self, "_shut", False):
            return
        self._shut = True
        self.keys.close()
        self.runner.cancel_all()
        self.runner.wait(10000)
        self.renderer.close()

