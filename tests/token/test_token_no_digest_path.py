"""No public path signs a caller-supplied digest.

``signer.sign_digest(e)`` signs any 32 bytes: an oracle for whoever controls e (a web
page talking to the localhost helper could make the bidder's key sign the digest of a
document the bidder never saw). It is the engines' internal contract: they compute e
themselves from what they sign. This walks the public surface a front end uses and
fails if any of it accepts a digest to sign: the ``app.token`` API (functions, the
session object), the engines' entry points that take a signer, and the CLI options.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

from app import token
from app.token.session import Session

#: Parameter names that would carry a precomputed value to be signed.
DIGEST_PARAMS = {"e", "digest", "hash", "hash_value", "digest_value", "prehashed", "tbs_hash"}
#: The packages whose public functions front ends call with a signer.
ENGINE_PACKAGES = ["app.pdfsign", "app.envelope", "app.authtoken", "app.gm.cms", "app.hub", "app.helper"]


def _public_callables(module: Any) -> Iterator[tuple[str, Any]]:
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name, None)
        if callable(obj) and not inspect.isclass(obj):
            yield f"{module.__name__}.{name}", obj


def _params(fn: Any) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def test_app_token_functions_take_no_digest() -> None:
    bad = [name for name, fn in _public_callables(token) if _params(fn) & DIGEST_PARAMS]
    assert not bad, f"public token functions that take a digest: {bad}"
    assert "sign_digest" not in token.__all__


def test_a_session_offers_no_digest_signing_of_its_own() -> None:
    """The session hands its signer to engines; it has no method that signs a given value."""
    public = [n for n in dir(Session) if not n.startswith("_")]
    for name in public:
        attr = getattr(Session, name)
        if callable(attr):
            assert not (_params(attr) & DIGEST_PARAMS), name
            assert "sign" not in name, f"Session.{name} signs"


def _engine_modules() -> Iterator[Any]:
    for pkg_name in ENGINE_PACKAGES:
        try:
            pkg = importlib.import_module(pkg_name)
        except ImportError:  # a package not merged into this branch yet
            continue
        yield pkg
        for info in pkgutil.walk_packages(getattr(pkg, "__path__", []), pkg_name + "."):
            if info.name.rsplit(".", 1)[-1].startswith("_"):
                continue
            try:
                yield importlib.import_module(info.name)
            except ImportError:
                continue


def test_engine_entry_points_with_a_signer_compute_e_themselves() -> None:
    """Every public function that takes a signer builds what is signed: none of them also
    accepts a digest from its caller."""
    checked, bad = 0, []
    for module in _engine_modules():
        for name, fn in _public_callables(module):
            params = _params(fn)
            if not params & {"signer", "sign_fn", "digest_signer", "key"}:
                continue
            checked += 1
            if params & DIGEST_PARAMS:
                bad.append(name)
    assert checked >= 3, "the walk found no signing entry points: the test lost its subject"
    assert not bad, f"entry points that sign a caller-supplied digest: {bad}"


def test_no_cli_option_takes_a_digest() -> None:
    from app.cli.main import build_parser

    def walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, str]]:
        for action in parser._actions:
            for opt in action.option_strings:
                yield path, opt
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, f"{path} {name}")

    opts = list(walk(build_parser(), "bidseal"))
    assert len(opts) > 20
    bad = [f"{p} {o}" for p, o in opts if o.lstrip("-").replace("-", "_") in DIGEST_PARAMS]
    assert not bad, bad


def test_the_contract_is_marked_internal() -> None:
    """The digest-signing contract says, where it is defined and implemented, who may call it."""
    from app.gm.keyops import DigestSigner
    from app.token.session import TokenSigner

    assert "ENGINE-INTERNAL" in (DigestSigner.__doc__ or "")
    assert "engines only" in (TokenSigner.sign_digest.__doc__ or "").lower()
