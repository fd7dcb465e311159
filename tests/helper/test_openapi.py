"""The committed OpenAPI file is current, and live replies conform to it."""

from __future__ import annotations

from pathlib import Path

from jsonschema import Draft202012Validator

from app.helper import openapi, schemas
from tests.helper.conftest import Running

FILE = Path(__file__).resolve().parents[2] / "resources" / "api" / "helper-openapi.json"


def test_committed_openapi_is_current() -> None:
    assert FILE.read_text(encoding="utf-8") == openapi.render(), \
        "regenerate: python -m app.helper.openapi > resources/api/helper-openapi.json"


def test_every_schema_is_valid_json_schema() -> None:
    for schema in [*schemas.REQUESTS.values(), *schemas.REPLIES.values(), schemas.ERROR_REPLY]:
        Draft202012Validator.check_schema(schema)


def test_replies_conform(helper: Running) -> None:
    for op, body in (("status", {}), ("certificates", {}), ("login", {"nonce": "N" * 44})):
        r = helper.post(op, body)
        Draft202012Validator(schemas.REPLIES[op]).validate(r.json())
    Draft202012Validator(schemas.ERROR_REPLY).validate(helper.post("login", {"pin": "1"}).json())
