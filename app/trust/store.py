"""The trust store: which root certificates a signature must chain to.

Three sources, read on every call (a handful of small files), so a root added in
the CLI is seen by the GUI and the helper at once:

* **shipped roots** — ``resources/trust/`` next to the application: the roots of
  the CAs the platform operator approved (the mutual-recognition list). They are
  managed by whoever builds the installer and cannot be removed here;
* **user roots** — ``<data dir>/trust/roots/`` (:func:`app.paths.data_dir`), added
  with ``bidseal trust add``;
* **demo roots** — ``<data dir>/trust/demo/``: the virtual UKey's demo CA, added by
  ``bidseal softkey init``. A signature that chains to one is valid *as a demo*,
  and every report says so (:func:`is_demo_root`).

The demo flag is where the file lies, not a field in an index that could be lost,
so a demo root can never silently become an ordinary one.

Only SM2 CA certificates are accepted: the verifier checks SM2 chains only, and an
end-entity certificate as a trust anchor would make every signature it issued look
vouched for by a CA. A self-issued root must carry a valid self-signature (a
damaged or edited root file is refused).
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import paths
from app.atomic import write_atomic
from app.errors import BidSealError
from app.gm.errors import GMError
from app.gm.x509 import Certificate

__all__ = [
    "DEMO_ROOT_NAMES",
    "StoreProblem",
    "TrustEntry",
    "TrustStore",
    "TrustStoreError",
    "is_demo_root",
    "read_certificate_file",
    "shipped_dir",
    "trusted_roots",
]

#: Subject CNs of the demo CA the virtual UKey's certificates come from. A root with
#: such a name is reported as a demo root even when it was passed with ``--trust``
#: instead of coming from the store (the label can only make a verdict more cautious).
DEMO_ROOT_NAMES = frozenset({"BidSeal Demo Root CA"})

_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


class TrustStoreError(BidSealError):
    """A root cannot be added, found or removed, or the store cannot be written."""

    code = "ERR_TRUST_STORE"


def shipped_dir() -> Path:
    """``resources/trust`` of this installation (inside a PyInstaller bundle: its data folder)."""
    base = getattr(sys, "_MEIPASS", None)
    if base:
        return Path(base) / "resources" / "trust"
    return Path(__file__).resolve().parents[2] / "resources" / "trust"


@dataclass(frozen=True)
class TrustEntry:
    """One trusted root: where it comes from and whether it is a demo root."""

    certificate: Certificate
    #: ``"shipped"`` (resources/trust) or ``"user"`` (added with ``bidseal trust add``)
    source: str
    demo: bool
    path: Path

    @property
    def fingerprint(self) -> str:
        """SM3 of the DER certificate, hex (what ``bidseal trust remove`` accepts)."""
        return self.certificate.fingerprint_sm3

    def to_dict(self) -> dict[str, Any]:
        c = self.certificate
        return {
            "fingerprint_sm3": self.fingerprint,
            "subject": c.subject.rfc4514(),
            "common_name": c.common_name,
            "not_before": c.not_before.isoformat(),
            "not_after": c.not_after.isoformat(),
            "valid_now": c.is_valid_at(),
            "source": self.source,
            "demo": self.demo,
            "path": str(self.path),
        }


@dataclass(frozen=True)
class StoreProblem:
    """A file in a trust folder that could not be read (reported by ``trust list``)."""

    path: Path
    reason: str


def _read_certs(path: Path) -> list[Certificate]:
    return Certificate.load_all(path.read_bytes())


def read_certificate_file(path: str | os.PathLike[str]) -> builtins.list[Certificate]:
    """Every certificate in a PEM bundle or a DER file; a clear :class:`TrustStoreError`
    when it cannot be read, parsed, or holds none (the trust commands and ``verify
    --trust`` share it)."""
    try:
        certs = _read_certs(Path(path))
    except OSError as exc:
        raise TrustStoreError(
            f"无法读取证书文件：{path}（{exc.strerror or exc}）。",
            f"Cannot read the certificate file {path} ({exc.strerror or exc}).",
            details={"path": str(path)},
        ) from exc
    except GMError as exc:
        raise TrustStoreError(
            f"证书文件无法解析：{path}。", f"The certificate file {path} cannot be parsed.",
            details={"path": str(path), "reason": exc.en},
        ) from exc
    if not certs:
        raise TrustStoreError(f"文件中没有证书：{path}。", f"No certificate in {path}.", details={"path": str(path)})
    return certs


def _check_root(cert: Certificate) -> None:
    """Refuse what must not become a trust anchor (see the module docstring)."""
    name = cert.common_name or cert.subject.rfc4514()
    if not cert.is_sm2:
        raise TrustStoreError(
            f"证书「{name}」不是 SM2 证书；本程序只验证国密（SM2）证书链。",
            f"The certificate '{name}' does not hold an SM2 key; only SM2 chains are verified here.",
            details={"subject": cert.subject.rfc4514()},
        )
    if not cert.is_ca:
        raise TrustStoreError(
            f"证书「{name}」不是 CA 证书（可能是个人或单位的签名证书）；请添加签发它的 CA 根证书。",
            f"The certificate '{name}' is not a CA certificate (it may be a signer's own certificate); "
            "add the root certificate of the CA that issued it.",
            details={"subject": cert.subject.rfc4514()},
        )
    if cert.is_self_issued and not cert.verify_signed_by(cert):
        raise TrustStoreError(
            f"根证书「{name}」的自签名无效，文件可能已损坏或被改动。",
            f"The root certificate '{name}' has an invalid self-signature; the file may be damaged or altered.",
            details={"subject": cert.subject.rfc4514()},
        )


class TrustStore:
    """The user's trust store plus the shipped roots (see the module docstring).

    ``folder`` defaults to ``app.paths.data_dir() / "trust"`` and ``shipped`` to
    :func:`shipped_dir`; tests and the GUI may point them elsewhere.
    """

    def __init__(self, folder: Path | None = None, shipped: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else paths.data_dir() / "trust"
        self.shipped = Path(shipped) if shipped is not None else shipped_dir()

    def _user_dir(self, demo: bool) -> Path:
        return self.folder / ("demo" if demo else "roots")

    # -- reading ----------------------------------------------------------------------
    def _scan(self) -> tuple[builtins.list[TrustEntry], builtins.list[StoreProblem]]:
        entries: builtins.list[TrustEntry] = []
        problems: builtins.list[StoreProblem] = []
        folders = ((self.shipped, "shipped", False), (self._user_dir(False), "user", False),
                   (self._user_dir(True), "user", True))
        seen: dict[Certificate, int] = {}
        for folder, source, demo in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() not in _CERT_SUFFIXES or not path.is_file():
                    continue
                try:
                    certs = _read_certs(path)
                except (OSError, GMError) as exc:
                    problems.append(StoreProblem(path, getattr(exc, "en", str(exc))))
                    continue
                for cert in certs:
                    entry = TrustEntry(cert, source, demo, path)
                    if cert in seen:
                        # The same root twice: demo wins (the more cautious label).
                        if demo:
                            entries[seen[cert]] = entry
                        continue
                    seen[cert] = len(entries)
                    entries.append(entry)
        return entries, problems

    def list(self) -> builtins.list[TrustEntry]:
        """Every trusted root: shipped first, then the user's (ordinary, then demo)."""
        return self._scan()[0]

    def problems(self) -> builtins.list[StoreProblem]:
        """Files in the trust folders that could not be read (they are ignored)."""
        return self._scan()[1]

    def roots(self) -> builtins.list[Certificate]:
        return [e.certificate for e in self.list()]

    def is_demo(self, cert: Certificate) -> bool:
        return any(e.demo and e.certificate == cert for e in self.list())

    # -- changing ---------------------------------------------------------------------
    def add(self, cert: Certificate, *, demo: bool = False) -> TrustEntry:
        """Trust ``cert`` (an SM2 CA certificate); idempotent. Adding a root that is
        already trusted under the other label moves it (demo <-> ordinary)."""
        _check_root(cert)
        target_dir = self._user_dir(demo)
        name = f"{cert.fingerprint_sm3[:40]}.pem"
        target = target_dir / name
        other = self._user_dir(not demo) / name
        try:
            paths.ensure(target_dir)
            if not target.exists():
                write_atomic(target, cert.pem)
            if other.exists():
                other.unlink()
        except OSError as exc:
            raise TrustStoreError(
                f"无法写入信任证书目录 {target_dir}（{exc.strerror or exc}）。",
                f"Cannot write the trust store folder {target_dir} ({exc.strerror or exc}).",
                details={"path": str(target_dir)},
            ) from exc
        return TrustEntry(cert, "user", demo, target)

    def add_file(self, path: Path, *, demo: bool = False) -> builtins.list[TrustEntry]:
        """Trust every certificate in a PEM bundle or a DER file; all or nothing."""
        certs = read_certificate_file(path)
        for cert in certs:
            _check_root(cert)
        return [self.add(cert, demo=demo) for cert in certs]

    def find(self, ident: str | os.PathLike[str] | Certificate) -> builtins.list[TrustEntry]:
        """Entries matching a certificate, a certificate file, or an SM3 fingerprint
        (at least 8 hex digits, a prefix is enough)."""
        entries = self.list()
        if isinstance(ident, Certificate):
            return [e for e in entries if e.certificate == ident]
        text = str(ident)
        candidate = Path(text)
        if candidate.is_file():
            wanted = set(read_certificate_file(candidate))
            return [e for e in entries if e.certificate in wanted]
        fp = text.lower().replace(":", "")
        if len(fp) < 8 or any(ch not in "0123456789abcdef" for ch in fp):
            raise TrustStoreError(
                f"「{text}」既不是证书文件，也不是证书指纹（至少 8 位十六进制）。",
                f"'{text}' is neither a certificate file nor a fingerprint (at least 8 hex digits).",
                details={"ident": text},
            )
        return [e for e in entries if e.fingerprint.startswith(fp)]

    def remove(self, ident: str | os.PathLike[str] | Certificate) -> builtins.list[TrustEntry]:
        """Stop trusting the user roots that match ``ident`` (see :meth:`find`).
        Shipped roots are refused: the platform operator manages them."""
        found = self.find(ident)
        if not found:
            raise TrustStoreError(
                f"信任列表中没有这个证书：{ident}。", f"No trusted root matches {ident}.",
                details={"ident": str(ident)},
            )
        shipped = [e for e in found if e.source == "shipped"]
        if shipped:
            raise TrustStoreError(
                "该根证书随程序发布（平台认可的 CA），不能在此删除；请联系平台运营方。",
                "This root ships with the application (an approved CA) and cannot be removed here; "
                "contact the platform operator.",
                details={"path": str(shipped[0].path)},
            )
        fps = {e.fingerprint for e in found}
        if len(fps) > 1:
            raise TrustStoreError(
                "指纹前缀匹配到多个证书，请给出更长的指纹。",
                "The fingerprint prefix matches several certificates; give more digits.",
                details={"matches": sorted(fps)},
            )
        for e in found:
            try:
                e.path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise TrustStoreError(
                    f"无法删除 {e.path}（{exc.strerror or exc}）。", f"Cannot delete {e.path} ({exc.strerror or exc}).",
                    details={"path": str(e.path)},
                ) from exc
        return found


def trusted_roots(extra: Sequence[Certificate] = (), *, use_default: bool = True,
                  store: TrustStore | None = None) -> list[Certificate]:
    """The roots a verification should trust: the store (shipped + user + demo roots)
    unless ``use_default`` is False, plus ``extra``; each once."""
    out: list[Certificate] = []
    if use_default:
        out.extend((store or TrustStore()).roots())
    for cert in extra:
        if cert not in out:
            out.append(cert)
    return out


def is_demo_root(cert: Certificate, *, store: TrustStore | None = None) -> bool:
    """True for a demo root: marked so in the store, or named like the demo CA."""
    if (cert.common_name or "") in DEMO_ROOT_NAMES:
        return True
    return (store or TrustStore()).is_demo(cert)

