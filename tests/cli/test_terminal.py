"""What a bidder sees on a real terminal (a pseudo-terminal): choosing among several
keys, a PIN prompt that names the key, Ctrl-D and Ctrl-C at the prompt, and the
question before an existing output is replaced."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

from .conftest import KEYWORD, REPO, USER_PIN, Keys, files_in, retries


class Terminal:
    """``bidseal ARGS`` on a pseudo-terminal (its controlling terminal, as for a person)."""

    def __init__(self, *args: str | os.PathLike[str]) -> None:
        argv = [sys.executable, "-m", "app.cli.main", *map(os.fspath, args)]
        env = {**os.environ, "BIDSEAL_LANG": ""}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.chdir(REPO)
            os.execve(sys.executable, argv, env)
        self.seen = ""

    def expect(self, text: str, timeout: float = 90) -> str:
        end = time.monotonic() + timeout
        while text not in self.seen:
            left = end - time.monotonic()
            assert left > 0, f"did not see {text!r}; screen so far:\n{self.seen}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"the program ended without showing {text!r}; screen:\n{self.seen}"
                self.seen += chunk.decode("utf-8", "replace")
        return self.seen

    def send(self, text: str | bytes) -> None:
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def wait(self, timeout: float = 90) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with _suppress():
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if ready:
                    self.seen += os.read(self.fd, 4096).decode("utf-8", "replace")
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"still running; screen:\n{self.seen}")


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)  # type: ignore[arg-type]


def test_choose_among_keys_and_the_pin_prompt_names_the_key(keys: Keys, tmp_path: Path, bid: Path) -> None:
    out = tmp_path / "sealed.pdf"
    term = Terminal("sign", bid, "-o", out, "--keyword", KEYWORD)
    screen = term.expect("请选择要使用的 UKey")
    assert "[1]" in screen and "[2]" in screen and "KEY-A" in screen and "KEY-B" in screen
    assert "Several keys are inserted" in screen
    number = "2" if screen.index("KEY-B") > screen.index("KEY-A") else "1"
    term.send(f"{number}\n")
    screen = term.expect("的口令 / PIN for this key")
    prompt = screen.rsplit("\n", 1)[-1]
    assert "KEY-B" in prompt and "大连第二投标有限公司" in prompt and keys.b.sign_certificate.serial_hex in prompt
    term.send(f"{USER_PIN}\n")
    term.expect("已签章并验证")
    assert term.wait() == 0
    assert USER_PIN not in term.seen  # no echo
    assert "签章人：大连第二投标有限公司" in term.seen and out.exists()


def test_ctrl_d_at_the_pin_prompt(keys: Keys, tmp_path: Path, bid: Path) -> None:
    before = retries("KEY-A")
    term = Terminal("sign", bid, "-o", tmp_path / "sealed.pdf", "--keyword", KEYWORD, "--key", "KEY-A")
    term.expect("PIN for this key")
    term.send(b"\x04")
    assert term.wait() == 2
    assert "没有输入口令（Ctrl-D）" in term.seen and "No PIN was entered (Ctrl-D)" in term.seen
    assert "Traceback" not in term.seen
    assert files_in(tmp_path) == ["bid.pdf"] and retries("KEY-A") == before


def test_ctrl_c_at_the_pin_prompt(keys: Keys, tmp_path: Path, bid: Path) -> None:
    term = Terminal("sign", bid, "-o", tmp_path / "sealed.pdf", "--keyword", KEYWORD, "--key", "KEY-A")
    term.expect("PIN for this key")
    term.send(b"\x03")
    assert term.wait() == 130
    assert "已取消" in term.seen and "Cancelled" in term.seen and "Traceback" not in term.seen
    assert files_in(tmp_path) == ["bid.pdf"]


def test_existing_output_is_replaced_only_after_yes(keys: Keys, tmp_path: Path, bid: Path) -> None:
    out = tmp_path / "sealed.pdf"
    out.write_bytes(b"yesterday's version")
    term = Terminal("sign", bid, "-o", out, "--keyword", KEYWORD, "--key", "KEY-A")
    term.expect("已存在，是否替换")
    term.send("n\n")
    assert term.wait() == 2
    assert "ERR_OUTPUT_EXISTS" in term.seen and out.read_bytes() == b"yesterday's version"
    assert "PIN" not in term.seen.split("已存在")[1]  # stopped before the PIN

    term = Terminal("sign", bid, "-o", out, "--keyword", KEYWORD, "--key", "KEY-A")
    term.expect("已存在，是否替换")
    term.send("y\n")
    term.expect("PIN for this key")
    term.send(f"{USER_PIN}\n")
    assert term.wait() == 0, term.seen
    assert out.read_bytes().startswith(b"%PDF")
