from __future__ import annotations

from tests.helper.conftest import EVIL, Running


def test_status_for_the_hub_and_nothing_for_others(helper: Running) -> None:
    r = helper.post("status")
    assert r.status_code == 200, r.text
    assert r.json()["protocol"] == "bidseal-helper/1"
    assert r.headers["access-control-allow-origin"] == "https://hub.example.cn"
    bad = helper.post("status", origin=EVIL)
    assert bad.status_code == 403 and bad.content == b"" and "access-control-allow-origin" not in bad.headers
