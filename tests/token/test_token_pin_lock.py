"""PIN verification is serialised per device across BidSeal processes.

A driver (like libsoftskf) reads the retry counter, checks the PIN and writes the
counter back; two processes verifying wrong PINs at the same moment could both read
6 and both write 5, losing a retry-counter update (and giving an attacker free
guesses). The token host holds a lock file per device around every PIN operation.
Here several processes, released at the same instant, each try wrong PINs through
their own token host (raw host calls, no session lease): every attempt must count.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from app.token.device import pin_info
from app.token.identity import Identity
from app.token.locks import lock_dir

REPO = Path(__file__).resolve().parents[2]

GUESSER = r'''
import os, sys, time
from app.token.errors import PinIncorrect, PinLocked
from app.token.host_client import TokenHost
lib, dev, app, n, go = sys.argv[1:6]
host = TokenHost(lib)
hdev = host.call("connect_dev", dev)
happ = host.call("open_application", hdev, app)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.0005)
wrong = 0
for i in range(int(n)):
    try:
        host.call("verify_pin", happ, 1, b"wrong-pin-%d" % i)
    except (PinIncorrect, PinLocked):
        wrong += 1
print("wrong", wrong, flush=True)
host.close()
'''

PROCESSES = 3
TRIES = 2


def test_parallel_wrong_pins_all_count(fresh_identity: Identity, tmp_path: Path) -> None:
    before = pin_info(fresh_identity)
    assert before.remaining == before.max_retries == 6 >= PROCESSES * TRIES
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", GUESSER, fresh_identity.library, fresh_identity.device,
                               fresh_identity.application, str(TRIES), str(go)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(PROCESSES)]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
        go.touch()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert f"wrong {TRIES}" in out
    after = pin_info(fresh_identity)
    assert after.remaining == before.remaining - PROCESSES * TRIES, "a retry-counter update was lost"
    assert any(lock_dir().glob("pin-*.lock"))


def test_pin_lock_is_released_when_its_holder_dies(fresh_identity: Identity, tmp_path: Path) -> None:
    """A process killed while holding the PIN lock does not block the key: the OS drops it."""
    from app.token.locks import pin_lock

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom app.token.locks import pin_lock\n"
        "lock = pin_lock(sys.argv[1]); assert lock.acquire(5)\nprint('held', flush=True)\ntime.sleep(60)\n"),
        fresh_identity.device], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = pin_lock(fresh_identity.device)
        assert not lock.acquire(0.2)  # really held by the other process
        holder.kill()
        holder.wait(10)
        t0 = time.monotonic()
        assert lock.acquire(5)
        assert time.monotonic() - t0 < 2
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
    assert pin_info(fresh_identity).remaining == 6
