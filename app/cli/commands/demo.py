"""``bidseal demo``: the whole bidder flow on the embedded default, end to end.

It provisions the virtual UKey (libsoftskf, loaded through the same SKF loader and
token-host process as a vendor DLL) through the real issuance flow against a demo
PKI, seals the sample bid PDF with the company, legal-representative and
cross-page seals read from the key, verifies the result, encrypts it into a bid
envelope for the bidder's encryption certificate and a trading centre's emergency
certificate, and decrypts it again with the key. Everything lands in one work
folder so a person can open the files afterwards.

The demo key's PIN is the documented demo default; a real key's PIN is only ever
typed by the bidder (``bidseal sign``/``decrypt`` prompt without echo).
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import sys
import time
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_NEGATIVE, EXIT_OK, add_json, lang, print_json

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "samples" / "bid-sample.pdf"
COMPANY_KEYWORD = "投标人（盖章）"
LEGAL_KEYWORD = "法定代表人（签字或盖章）"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="用内置虚拟 UKey 演示完整流程 / run the whole flow on the virtual UKey")
    p.add_argument("--workdir", type=Path, default=Path("bidseal-demo"),
                   help="输出目录 / work folder (default ./bidseal-demo)")
    p.add_argument("--pdf", type=Path, default=SAMPLE, help="要签章的投标文件 / bid PDF to seal (default: sample)")
    add_json(p)
    p.set_defaults(func=cmd_demo)


def _say(zh: str, en: str) -> None:
    print(en if lang() == "en" else f"{zh} / {en}", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    """The demo; with ``--json`` the steps go to stderr and a summary to stdout."""
    if not args.json:
        return _run_demo(args)
    with contextlib.redirect_stdout(sys.stderr):
        code = _run_demo(args)
    work = args.workdir.resolve()
    print_json({"ok": code == EXIT_OK, "workdir": str(work),
                "files": sorted(p.name for p in work.iterdir() if p.is_file())})
    return code


def _run_demo(args: argparse.Namespace) -> int:
    from app.demo.pki import DEMO_CENTRE_CODE, Subject
    from app.envelope import decrypt_file, encrypt_file, read_info
    from app.gm import sm2
    from app.pdfsign import CrossPagePlacement, KeywordPlacement, Seal, SealOptions, seal_pdf
    from app.pdfsign.verify import verify_pdf
    from app.token import find_identity, open_session
    from app.token.registry import softskf_path
    from app.token.softkey import DEFAULT_USER_PIN, init_softkey, load_demo_ca

    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    store, pki = work / "softskf", work / "pki"
    os.environ["SOFTSKF_STORE"] = str(store)  # token hosts inherit it
    os.environ["BIDSEAL_SOFTKEY"] = "1"  # the virtual key is enabled for this run only
    started = time.perf_counter()

    _say("[1/6] 按真实签发流程初始化虚拟 UKey（密钥在 UKey 内生成，证书请求由 UKey 签名）",
         "[1/6] Provisioning the virtual UKey through the real issuance flow (key generated on the key)")
    info = init_softkey(store, pki_dir=pki, force=True, enable=False)
    root = info.root_certificate
    (work / "demo-root.pem").write_bytes(root.pem)
    _say(f"      单位：{info.sign_certificate.unit_name}  统一社会信用代码：{info.sign_certificate.unit_code}",
         f"      unit: {info.sign_certificate.unit_name}  code: {info.sign_certificate.unit_code}")

    _say("[2/6] 通过 SKF 接口读取 UKey（与厂商 DLL 相同的加载方式）",
         "[2/6] Reading the key through SKF (same loader as a vendor DLL)")
    identity = find_identity(str(softskf_path()), info.label)
    assert identity.sign_certificate is not None and identity.enc_certificate is not None
    _say(f"      签名证书 {identity.sign_certificate.serial_hex}，加密证书 {identity.enc_certificate.serial_hex}，"
         f"印章：{', '.join(sorted(identity.seals))}",
         f"      sign cert {identity.sign_certificate.serial_hex}, enc cert {identity.enc_certificate.serial_hex}, "
         f"seals: {', '.join(sorted(identity.seals))}")

    sealed = work / "bid-sealed.pdf"
    _say("[3/6] 加盖单位章、法定代表人章和骑缝章（一次输入口令，每个印章一次 UKey 签名）",
         "[3/6] Sealing: company seal, legal-representative seal, cross-page seal (one PIN entry)")
    seals = [
        Seal(KeywordPlacement(COMPANY_KEYWORD), identity.seals["company"], name="company",
             reason="投标文件签章", location="沈阳"),
        Seal(KeywordPlacement(LEGAL_KEYWORD, size_mm=20), identity.seals["legal"], name="legal",
             reason="法定代表人签章", location="沈阳"),
        Seal(CrossPagePlacement(), identity.seals["company"], name="cross-page", reason="骑缝章", location="沈阳"),
    ]
    with open_session(identity, DEFAULT_USER_PIN) as session:
        result = seal_pdf(args.pdf, sealed, session.signer, seals, options=SealOptions(trust_roots=(root,)))
    for s in result.seals:
        _say(f"      {s.summary()}", f"      {s.summary()}")

    _say("[4/6] 验证已签章的 PDF（信任演示根证书）", "[4/6] Verifying the sealed PDF (trusting the demo root)")
    report = verify_pdf(sealed, trust_roots=(root,))
    print(report.to_text(lang()))
    if not report.all_valid:
        _say("验证未通过。", "Verification failed.")
        return EXIT_NEGATIVE

    _say("[5/6] 将投标文件加密到投标人加密证书和交易中心应急证书（数字信封）",
         "[5/6] Encrypting the bid to the bidder's encryption certificate and the centre's emergency certificate")
    ca = load_demo_ca(pki)
    emergency_key = sm2.PrivateKey.generate()
    emergency = ca.issue(emergency_key.public_key,
                         Subject(unit_name="辽宁省公共资源交易中心（应急）", unit_code=DEMO_CENTRE_CODE), "enc")
    envelope = work / "bid-sealed.pdf.bse"
    encrypt_file(sealed, envelope, [identity.enc_certificate, emergency], project_id="LNGG-2026-DEMO-001",
                 unit_code=identity.enc_certificate.unit_code)
    env_info = read_info(envelope)
    _say(f"      {envelope.name}: {len(env_info.recipients)} 个接收方", f"      {envelope.name}: "
         f"{len(env_info.recipients)} recipients")

    _say("[6/6] 开标：用 UKey 解密（会话密钥只在 UKey 内解开，大数据在本机解密）",
         "[6/6] Bid opening: decrypting with the UKey (session key unwrapped inside the key)")
    opened = work / "bid-opened.pdf"
    with open_session(identity, DEFAULT_USER_PIN) as session:
        decrypt_file(envelope, opened, session.unwrapper)
    same = filecmp.cmp(sealed, opened, shallow=False)
    _say(f"      解密结果与签章文件{'一致' if same else '不一致'}",
         f"      decrypted file {'matches' if same else 'DIFFERS FROM'} the sealed file")
    _say(f"完成，用时 {time.perf_counter() - started:.1f} 秒。文件在 {work}",
         f"Done in {time.perf_counter() - started:.1f} s. Files are in {work}")
    return EXIT_OK if same else EXIT_NEGATIVE

