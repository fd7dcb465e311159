"""Fixtures for the bid-day CLI tests: two virtual keys of two companies in one store
(the real libsoftskf through the token host), a bid PDF with the seal keyword, and a
runner for ``bidseal`` as a separate process (signals, stdin bytes, driver faults)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pymupdf
import pytest

from app.demo.pki import Subject
from app.gm.names import make_uscc
from app.token.softkey import SoftkeyInfo, init_softkey
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store
pool = virtual_ukey.pool

REPO = Path(__file__).resolve().parents[2]
KEYWORD = "投标人（盖章）"
WRONG_PIN = "99999999"
CODE_B = make_uscc("91210200MA0Y8B6K3")


@dataclass(frozen=True)
class Keys:
    a: SoftkeyInfo
    b: SoftkeyInfo
    store: Path
    library: str


@pytest.fixture(scope="module")
def keys(store: Path, softskf_lib: str, tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """KEY-A (the demo company) and KEY-B (another company), both inserted."""
    pki_dir = tmp_path_factory.mktemp("cli-pki")
    a = init_softkey(store, "KEY-A", USER_PIN, ADMIN_PIN, pki_dir)
    b = init_softkey(store, "KEY-B", USER_PIN, ADMIN_PIN, pki_dir,
                     subject=Subject(unit_name="大连第二投标有限公司", unit_code=CODE_B, legal_name="李四"))
    return Keys(a, b, store, softskf_lib)


def make_bid(path: Path, *, pages: int = 2, keyword: str = KEYWORD) -> Path:
    """A small A4 bid PDF with ``keyword`` on its last page."""
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 80), f"第 {i + 1} 页 投标文件", fontname="china-s", fontsize=14)
        if i == pages - 1:
            page.insert_text((72, 600), keyword, fontname="china-s", fontsize=14)
    doc.save(path)
    doc.close()
    return path


@pytest.fixture()
def bid(tmp_path: Path) -> Path:
    return make_bid(tmp_path / "bid.pdf")


def bidseal(*args: str | os.PathLike[str], stdin: bytes | None = None, env: dict[str, str] | None = None,
            timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``bidseal ARGS`` in a new process (the test's environment, plus ``env``)."""
    full = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "app.cli.main", *map(os.fspath, args)], input=stdin,
                          capture_output=True, env=full, timeout=timeout, cwd=cwd or REPO)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def retries(label: str) -> int:
    """The user-PIN retries left on the virtual key ``label`` (read through the token layer)."""
    from app.token import find_identity, pin_info

    return pin_info(find_identity(None, label)).remaining


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


__all__ = ["ADMIN_PIN", "CODE_B", "KEYWORD", "USER_PIN", "WRONG_PIN", "Keys", "bidseal", "files_in", "make_bid",
           "retries"]
