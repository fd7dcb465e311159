"""The OpenAPI document matches the code, and a schemathesis run against it finds no 5xx.

Half of the generated requests are sent as schemathesis made them (they fail the sign
check or the shape check); the other half get a valid ``sign`` for their (generated)
fields, so the fuzzing reaches the flows behind the checks: certificate parsing, base64,
envelopes, PDFs, task creation, the CA service and the trading system's callbacks."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from app.hub import openapi, signing
from tests.hub.conftest import Live

DOC = Path(__file__).resolve().parents[2] / "resources" / "api" / "hub-openapi.yaml"
schema = schemathesis.openapi.from_path(DOC)


def test_committed_document_is_generated_from_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == openapi.to_yaml(), \
        "run: python -m app.hub.openapi > resources/api/hub-openapi.yaml"


def test_document_covers_all_interfaces() -> None:
    import yaml

    paths = yaml.safe_load(DOC.read_text(encoding="utf-8"))["paths"]
    assert len([p for p in paths if p.startswith("/api/ca/")]) == 10


def _target(live: Live, tag: str) -> tuple[str, str]:
    if tag == "hub":
        return live.hub_url, live.caller_secret
    if tag == "ca-service":
        return live.ca_url, live.plat.secrets["ca_service"]
    return live.demo_url, live.plat.secrets["platform"]


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case, live: Live) -> None:  # type: ignore[no-untyped-def]
    tag = case.operation.definition.raw["tags"][0]
    base, secret = _target(live, tag)
    body = case.body
    if isinstance(body, dict) and all(isinstance(v, str) for v in body.values()) and len(str(body)) % 2:
        fields = {k: v for k, v in body.items() if k != "sign"}
        body["sign"] = signing.sign_hmac(case.path, fields, secret)
    response = case.call(base_url=base)
    assert response.status_code < 500, (case.path, response.status_code, response.text[:500])
    ctype = response.headers.get("content-type") or [""]
    assert (ctype[0] if isinstance(ctype, list) else ctype).startswith("application/json"), \
        (case.path, base, response.status_code, response.text[:300])
    data = response.json()
    assert isinstance(data.get("code"), int) and data["code"] == response.status_code
    if data["code"] != 200:
        assert data["msg"] and data["errData"]
