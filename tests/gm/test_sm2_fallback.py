"""The pure-Python SM2 fallback is opt-in and loud; libcrypto is looked for next to the
executable first.

Each case runs in a fresh interpreter (the backend choice is made once per process),
with ``BIDSEAL_LIBCRYPTO`` pointing at a file that does not exist to play a machine
without OpenSSL 3.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NO_LIBCRYPTO = {"BIDSEAL_LIBCRYPTO": "/nonexistent/libcrypto.so.3"}


def _run(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("BIDSEAL_SM2_BACKEND", "BIDSEAL_LIBCRYPTO")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                          env=full, timeout=120)


PROBE = r'''
import json, warnings
warnings.simplefilter("always")
from app.gm import sm2
from app.gm.errors import GMError
out = {"diag": sm2.diagnostics()}
try:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key = sm2.PrivateKey.generate()
        sig = sm2.sign(key, b"bid")
        sm2.decrypt(key, sm2.encrypt(key.public_key, b"k" * 16))
    out["signed"] = True
    out["warnings"] = [str(w.category.__name__) for w in caught]
except GMError as exc:
    out["signed"] = False
    out["error"] = exc.code
    out["message"] = exc.en
print(json.dumps(out))
'''

VERIFY = r'''
import json, sys, warnings
from app.gm import sm2
pub = sm2.PublicKey.from_pem(open(sys.argv[1], "rb").read())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ok = sm2.verify(pub, b"bid", bytes.fromhex(sys.argv[2]))
print(json.dumps({"ok": ok, "warnings": len(caught), "backend": sm2.get_backend().name}))
'''


def test_private_keys_refuse_the_silent_fallback() -> None:
    proc = _run(PROBE, NO_LIBCRYPTO)
    out = json.loads(proc.stdout)
    assert out["signed"] is False and out["error"] == "ERR_OPENSSL_MISSING"
    assert "BIDSEAL_SM2_BACKEND=gmssl" in out["message"]
    d = out["diag"]
    assert d["backend"] is None and d["libcrypto"] is None and "nonexistent" in d["libcrypto_error"]
    assert d["constant_time"] is False and d["warning_en"]


def test_opting_in_works_and_warns_on_every_secret_operation() -> None:
    proc = _run(PROBE, {**NO_LIBCRYPTO, "BIDSEAL_SM2_BACKEND": "gmssl"})
    out = json.loads(proc.stdout)
    assert out["signed"] is True
    assert out["warnings"].count("SoftwareSM2Warning") >= 4  # keygen, sign, encrypt, decrypt
    d = out["diag"]
    assert d["backend"] == "gmssl" and d["software_fallback"] and not d["constant_time"]
    assert "OpenSSL 3" in d["warning_en"] and "OpenSSL 3" in d["warning_zh"]


def test_verification_falls_back_quietly(tmp_path: Path) -> None:
    from app.gm import sm2

    key = sm2.PrivateKey.generate()
    (tmp_path / "pub.pem").write_bytes(key.public_key.to_pem())
    sig = sm2.sign(key, b"bid")
    out = json.loads(_run(VERIFY, NO_LIBCRYPTO, str(tmp_path / "pub.pem"), sig.hex()).stdout)
    assert out == {"ok": True, "warnings": 0, "backend": "gmssl"}


def test_with_libcrypto_everything_is_openssl() -> None:
    out = json.loads(_run(PROBE, {}).stdout)
    assert out["signed"] is True and out["warnings"] == []
    d = out["diag"]
    assert d["backend"] == "openssl" and d["constant_time"] and d["warning_en"] is None
    assert d["libcrypto"]["version"].startswith("3.")


def test_cli_command_with_a_software_key_prints_the_warning(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "app.cli.main", "pki", "demo", "--out", str(tmp_path / "pki")],
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, **NO_LIBCRYPTO, "BIDSEAL_SM2_BACKEND": "gmssl"})
    assert proc.returncode == 0, proc.stderr
    assert "SoftwareSM2Warning" in proc.stderr and "OpenSSL 3" in proc.stderr


def test_libcrypto_next_to_the_executable_comes_first(tmp_path: Path) -> None:
    """A Windows install ships libcrypto beside bidseal.exe; here: a copy beside a stand-in
    executable (sys.executable) wins over the system one."""
    from app.gm.sm2.openssl_backend import loaded_library

    system = loaded_library()
    assert system is not None
    app_dir = tmp_path / "BidSeal"
    app_dir.mkdir()
    name = {"win32": "libcrypto-3-x64.dll", "darwin": "libcrypto.3.dylib"}.get(sys.platform, "libcrypto.so.3")
    real = Path(system["path"]) if os.path.isabs(system["path"]) else None
    if real is None:
        import ctypes.util

        found = ctypes.util.find_library("crypto")
        assert found, "no system libcrypto to copy"
        for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"):
            if (Path(d) / name).exists():
                real = Path(d) / name
                break
    assert real is not None and real.exists()
    shutil.copy2(real, app_dir / name)
    code = ("import sys, json; sys.executable = sys.argv[1]\n"
            "from app.gm.sm2.openssl_backend import loaded_library, candidate_paths\n"
            "print(json.dumps({'lib': loaded_library(), 'first': candidate_paths()[0]}))")
    out = json.loads(_run(code, {}, str(app_dir / "bidseal.exe")).stdout)
    assert out["first"] == str(app_dir / name)
    assert out["lib"]["path"] == str(app_dir / name)


@pytest.mark.parametrize("explicit", ["/nonexistent/libcrypto.so.3"])
def test_an_explicit_libcrypto_is_the_only_one_tried(explicit: str) -> None:
    code = "from app.gm.sm2.openssl_backend import candidate_paths; print(candidate_paths())"
    assert _run(code, {"BIDSEAL_LIBCRYPTO": explicit}).stdout.strip() == repr([explicit])
