"""A token host that breaks the protocol: every malformed reply is a typed TokenError.

The host runs a vendor library, so the caller treats it as untrusted. A stand-in host
process (a real process on real pipes, started through TokenHost like the real one)
sends one crafted frame of each bad shape; the caller must raise TokenProtocolError
(never AttributeError, KeyError or a silent empty value), kill that host and start a
fresh one on the next call.
"""

from __future__ import annotations

import json
import stat
import struct
import sys
from pathlib import Path

import pytest

from app.token.errors import TokenError, TokenProtocolError
from app.token.host_client import TokenHost

GEN = "0badc0de"
HELLO = {"hello": {"pid": 1, "generation": GEN, "library": "x", "bits": 64, "format": "ELF", "machine": "x86_64",
                   "python": "3"}}

FAKE = r'''
import os, struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
out.write(open(os.environ["FAKE_HELLO"], "rb").read()); out.flush()
while True:
    head = inp.read(4)
    if len(head) < 4:
        break
    inp.read(struct.unpack(">I", head)[0])
    out.write(open(os.environ["FAKE_REPLY"], "rb").read()); out.flush()
'''


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def js(obj: object) -> bytes:
    return frame(json.dumps(obj).encode())


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    script = tmp_path / "fake-host"
    script.write_text(f"#!{sys.executable}\n{FAKE}", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _host(fake_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: bytes,
          hello: bytes = js(HELLO)) -> TokenHost:
    lib = tmp_path / "libvendor.so"
    lib.write_bytes(b"\x7fELF")
    (tmp_path / "hello.bin").write_bytes(hello)
    (tmp_path / "reply.bin").write_bytes(reply)
    monkeypatch.setenv("FAKE_HELLO", str(tmp_path / "hello.bin"))
    monkeypatch.setenv("FAKE_REPLY", str(tmp_path / "reply.bin"))
    return TokenHost(lib, python=str(fake_python), timeout=10)


ERR = {"cls": "SkfError", "code": "ERR_SKF", "zh": "错", "en": "bad", "details": {}}

BAD_REPLIES = {
    "not json": frame(b"{not json"),
    "not utf-8": frame(b'{"id":1,"ok":"\xff"}'),
    "json array": js([1, "pong"]),
    "NaN constant": frame(b'{"id":1,"ok":NaN}'),
    "huge length": struct.pack(">I", 0xFFFFFFF0) + b"{}",
    "id is a string": js({"id": "1", "ok": "pong"}),
    "id is a bool": js({"id": True, "ok": "pong"}),
    "another request's id": js({"id": 7, "ok": "pong"}),
    "neither ok nor error": js({"id": 1}),
    "both ok and error": js({"id": 1, "ok": "pong", "error": ERR}),
    "unknown member": js({"id": 1, "ok": "pong", "debug": "x"}),
    "error is a string": js({"id": 1, "error": "boom"}),
    "error code not a string": js({"id": 1, "error": {**ERR, "code": 5}}),
    "error without en": js({"id": 1, "error": {k: v for k, v in ERR.items() if k != "en"}}),
    "error details nested": js({"id": 1, "error": {**ERR, "details": {"x": {"y": 1}}}}),
    "error details a list": js({"id": 1, "error": {**ERR, "details": [1]}}),
    "error unknown member": js({"id": 1, "error": {**ERR, "traceback": "..."}}),
    "error text too long": js({"id": 1, "error": {**ERR, "zh": "x" * 5000}}),
    "wrong result value": js({"id": 1, "ok": "pang"}),
    "wrong result type": js({"id": 1, "ok": 1}),
}

BAD_RESULTS = {  # (op, args, reply)
    "enum_dev returns a number": ("enum_dev", (True,), js({"id": 1, "ok": 5})),
    "enum_dev returns mixed list": ("enum_dev", (True,), js({"id": 1, "ok": ["a", 3]})),
    "enum_dev returns bytes": ("enum_dev", (True,), js({"id": 1, "ok": {"$b": "QQ=="}})),
    "base64 with bad characters": ("gen_random", ("h", 8), js({"id": 1, "ok": {"$b": "!!!!"}})),
    "base64 without padding": ("gen_random", ("h", 8), js({"id": 1, "ok": {"$b": "QQ"}})),
    "base64 with slack bits": ("gen_random", ("h", 8), js({"id": 1, "ok": {"$b": "QR=="}})),
    "base64 with whitespace": ("gen_random", ("h", 8), js({"id": 1, "ok": {"$b": "QU\nFB"}})),
    "base64 not a string": ("gen_random", ("h", 8), js({"id": 1, "ok": {"$b": 5}})),
    "bytes object with extra key": ("gen_random", ("h", 8), js({"id": 1, "ok": {"$b": "QQ==", "x": 1}})),
    "reserved key": ("get_dev_info", ("h",), js({"id": 1, "ok": {"$x": 1}})),
    "gen_random returns text": ("gen_random", ("h", 8), js({"id": 1, "ok": "AAAA"})),
    "handle of another process": ("connect_dev", ("K",), js({"id": 1, "ok": "deadbeef:1"})),
    "handle not a handle": ("connect_dev", ("K",), js({"id": 1, "ok": "../../etc"})),
    "handle a number": ("connect_dev", ("K",), js({"id": 1, "ok": 3})),
    "dev info missing fields": ("get_dev_info", ("h",), js({"id": 1, "ok": {"label": "x"}})),
    "dev info wrong field type": ("get_dev_info", ("h",), js({"id": 1, "ok": {
        **{k: "" for k in ("version", "manufacturer", "issuer", "label", "serial", "hw_version",
                           "firmware_version")},
        **{k: 0 for k in ("alg_sym_cap", "alg_asym_cap", "alg_hash_cap", "dev_auth_alg_id", "total_space",
                          "free_space", "max_ecc_buffer_size")}, "max_buffer_size": "4096"}})),
    "pin info too short": ("get_pin_info", ("h", 1), js({"id": 1, "ok": [6, 5]})),
    "pin info negative": ("get_pin_info", ("h", 1), js({"id": 1, "ok": [6, -1, False]})),
    "certificate too large": ("export_certificate", ("h", True),
                              js({"id": 1, "ok": {"$b": "QUFB" * 30000}})),
    "void op returns data": ("verify_pin", ("h", 1, b"x"), js({"id": 1, "ok": "ok"})),
    "unknown op result": ("no_such_op", (), js({"id": 1, "ok": None})),
}

BAD_HELLOS = {
    "hello not json": frame(b"hello"),
    "hello an array": js([]),
    "no hello member": js({"greeting": {}}),
    "hello a string": js({"hello": "hi"}),
    "hello without generation": js({"hello": {"pid": 1, "library": "x"}}),
    "hello generation not hex": js({"hello": {"pid": 1, "library": "x", "generation": "../../"}}),
    "hello pid a string": js({"hello": {**HELLO["hello"], "pid": "1"}}),
    "failed hello without error": js({"hello": None}),
    "failed hello with bad error": js({"hello": None, "error": {"cls": 1}}),
}


def _expect_protocol_error(host: TokenHost, op: str, *args: object) -> TokenProtocolError:
    try:
        with pytest.raises(TokenProtocolError) as info:
            host.call(op, *args)
        assert isinstance(info.value, TokenError)
        assert info.value.code == "ERR_TOKEN_PROTOCOL" and info.value.zh and info.value.en
        assert not host.alive, "a host that broke the protocol must be killed"
        return info.value
    finally:
        host.close()


@pytest.mark.parametrize("case", sorted(BAD_REPLIES))
def test_malformed_reply(case: str, fake_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = _host(fake_python, tmp_path, monkeypatch, BAD_REPLIES[case])
    _expect_protocol_error(host, "ping")


@pytest.mark.parametrize("case", sorted(BAD_RESULTS))
def test_result_of_the_wrong_shape(case: str, fake_python: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    op, args, reply = BAD_RESULTS[case]
    host = _host(fake_python, tmp_path, monkeypatch, reply)
    err = _expect_protocol_error(host, op, *args)
    assert err.details.get("op") == op


@pytest.mark.parametrize("case", sorted(BAD_HELLOS))
def test_malformed_hello(case: str, fake_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = _host(fake_python, tmp_path, monkeypatch, js({"id": 1, "ok": "pong"}), hello=BAD_HELLOS[case])
    _expect_protocol_error(host, "ping")


def test_well_formed_replies_pass(fake_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks are not simply refusing everything: good replies of the same host work,
    a well-formed error object becomes its typed error, and a broken host is replaced."""
    host = _host(fake_python, tmp_path, monkeypatch, js({"id": 1, "ok": "pong"}))
    try:
        assert host.call("ping") == "pong"
    finally:
        host.close()
    host = _host(fake_python, tmp_path, monkeypatch, js({"id": 1, "ok": {"$b": "QUJD"}}))
    try:
        assert host.call("gen_random", "h", 3) == b"ABC"
    finally:
        host.close()
    host = _host(fake_python, tmp_path, monkeypatch, js({"id": 1, "ok": f"{GEN}:12"}))
    try:
        assert host.call("connect_dev", "K") == f"{GEN}:12"
    finally:
        host.close()
    host = _host(fake_python, tmp_path, monkeypatch, js({"id": 1, "error": {
        "cls": "PinIncorrect", "code": "ERR_PIN_INCORRECT", "zh": "口令错误", "en": "wrong PIN",
        "details": {"retries_left": 3}}}))
    try:
        from app.token.errors import PinIncorrect

        with pytest.raises(PinIncorrect) as info:
            host.call("verify_pin", f"{GEN}:2", 1, b"x")
        assert info.value.retries_left == 3 and host.alive
    finally:
        host.close()
    host = _host(fake_python, tmp_path, monkeypatch, BAD_REPLIES["not json"])
    try:
        with pytest.raises(TokenProtocolError):
            host.call("ping")
        (tmp_path / "reply.bin").write_bytes(js({"id": 1, "ok": "pong"}))
        assert host.call("ping") == "pong" and host.starts == 2  # a fresh host, request ids start again
    finally:
        host.close()


def test_error_class_names_cannot_pick_arbitrary_classes(fake_python: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An error object naming a non-token class (or a class with a hostile name) is a plain
    TokenError: the host cannot make the caller raise SystemExit or KeyboardInterrupt."""
    for cls in ("SystemExit", "KeyboardInterrupt", "BidSealError", "__class__"):
        host = _host(fake_python, tmp_path, monkeypatch, js({"id": 1, "error": {**ERR, "cls": cls}}))
        try:
            with pytest.raises(TokenError) as info:
                host.call("ping")
            assert type(info.value) is TokenError
        finally:
            host.close()
