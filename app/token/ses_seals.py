"""National-format seals stored on a key: ``SESeal`` files (GM/T 0031 V1 / GB/T 38540 V4).

CA keys that carry seals issued by a seal-making system keep them as application
files holding the DER ``SESeal``. Which file names vendors use is not standardised, so
discovery is by content: every application file that is not a BidSeal PNG seal
(``seal_<kind>.png``) is read (up to :data:`MAX_SES_FILE` bytes) and kept when it
parses as an SESeal. Files whose names say they are seals (``*.esl``, ``seal*``,
``SESeal*``, any case) but do not parse produce a warning; other files that do not
parse (a vendor's own data) are ignored silently.

Parsing is not trusting: the maker's signature, validity and binding to a certificate
are checked where a seal is used (``SESeal.verify``), and :func:`seal_summary` reports
whether the maker's signature verifies so a listing can show it.
"""

from __future__ import annotations

import os
import re
from typing import Any, Protocol

from app.errors import BidSealError
from app.gm.ses import SESeal
from app.gm.ses.errors import SESFormatError
from app.token.identity import seal_kind

#: Larger files are not seals (a seal picture is tens of KB; ofdrw's samples are 17 KB).
MAX_SES_FILE = 512 * 1024
#: File names that announce a national-format seal (a parse failure is then worth a warning).
SES_NAME_RE = re.compile(r"^(.*\.esl|seal.*|seseal.*|es_?seal.*)$", re.IGNORECASE)


class _Calls(Protocol):
    library: str

    def call(self, op: str, *args: Any) -> Any: ...


def read_ses_seals(host: _Calls, happ: str, files: list[str]) -> tuple[dict[str, SESeal], list[str]]:
    """SESeal files among ``files`` of the open application ``happ``: file name -> seal."""
    found: dict[str, SESeal] = {}
    warnings: list[str] = []
    lib = os.path.basename(host.library)
    for name in files:
        if seal_kind(name) is not None:
            continue  # a BidSeal PNG seal
        announced = bool(SES_NAME_RE.match(name))
        try:
            size = int(host.call("get_file_info", happ, name)["size"])
            if size <= 0 or size > MAX_SES_FILE:
                if announced:
                    warnings.append(f"印章文件 {name} 大小 {size} 字节，不像电子印章，已跳过 / seal file {name} "
                                    f"has {size} bytes, not an electronic seal; skipped")
                continue
            data = host.call("read_file_all", happ, name)
        except BidSealError as exc:
            if announced:
                warnings.append(f"印章文件 {name} 无法读取（{lib}：{exc.zh}）/ seal file {name} cannot be read "
                                f"({lib}: {exc.en})")
            continue
        try:
            found[name] = SESeal.decode(bytes(data))
        except SESFormatError as exc:
            if announced:
                warnings.append(f"文件 {name} 不是可识别的电子印章（{exc.zh}）/ file {name} is not a readable "
                                f"electronic seal ({exc.en})")
    return found, warnings


def seal_summary(seal: SESeal) -> dict[str, Any]:
    """What a listing shows: name, type, validity, maker, picture, and whether the maker signature verifies."""
    out = seal.summary()
    try:
        maker = seal.verify_maker().maker
        out |= {"maker": maker.subject.rfc4514(), "maker_signature": "valid"}
    except BidSealError as exc:
        out |= {"maker": None, "maker_signature": exc.code}
    return out | {"picture_bytes": len(seal.picture)}
