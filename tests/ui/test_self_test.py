"""``bidseal gui --self-test``: the window's own start check, run as a separate process the way
an installed package runs it (tests/installer/test_deb_install.py runs it from the .deb)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.pdfsign.errors import PdfOpenError
from app.ui.engine_ops import op_open

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "samples" / "bid-sample.pdf"


def self_test(tmp_path: Path, *args: str, timeout: float = 120) -> tuple[int, dict]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "app.cli.main", "gui", "--self-test", *args], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(lines[0])


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, "-m", "app.cli.main", "demo", "--workdir", str(work), "--json"], check=True,
                   capture_output=True, timeout=300)
    return work / "bid-sealed.pdf"


def test_self_test_shows_and_verifies_a_sealed_bid_and_saves_the_window(tmp_path: Path, sealed: Path) -> None:
    shot = tmp_path / "window.png"
    code, out = self_test(tmp_path, str(sealed), "--screenshot", str(shot))
    assert code == 0 and out["ok"] is True and out["step"] == "done", out
    assert out["pages"] == 8 and out["signatures"] == 3 and len(out["verdicts"]) == 3
    assert out["qt_platform"] == "offscreen"
    assert out["first_page_s"] <= out["total_s"] and out["verified_s"] <= out["total_s"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000  # a painted window


def test_self_test_defaults_to_the_bundled_sample(tmp_path: Path) -> None:
    code, out = self_test(tmp_path)
    assert code == 0 and out["file"] == str(SAMPLE) and out["signatures"] == 0, out


@pytest.mark.parametrize("kind", ["truncated", "not-a-pdf"])
def test_self_test_fails_fast_with_the_bidders_sentence(tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(SAMPLE.read_bytes()[:3000] if kind == "truncated" else b"hello\n")
    code, out = self_test(tmp_path, str(bad), "--timeout", "60")
    assert code == 1 and out["ok"] is False, out
    assert out["total_s"] < 30, "an open error must end the self-test, not its timeout"
    assert "internal error" not in out["error"], out  # a damaged file is named as such, not a crash
    assert ("damaged" if kind == "truncated" else "cannot be opened") in out["error"], out


def test_self_test_refuses_a_missing_file(tmp_path: Path) -> None:
    code, out = self_test(tmp_path, str(tmp_path / "nope.pdf"))
    assert code == 2 and out["step"] == "file", out


def test_truncated_pdf_is_a_damaged_file_for_the_window_engine(tmp_path: Path) -> None:
    """Found by the self-test: the first 3000 bytes of a PDF opened in MuPDF's repair mode,
    then reading page 1's MediaBox raised ValueError("bad xref") -> "internal error"."""
    bad = tmp_path / "cut.pdf"
    bad.write_bytes(SAMPLE.read_bytes()[:3000])
    with pytest.raises(PdfOpenError) as e:
        op_open(None, str(bad))
    assert "damaged" in e.value.en and "bad xref" in str(e.value.details.get("reason", ""))
