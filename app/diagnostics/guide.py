"""The emergency guide for bid opening: what to do when "证书无法读取" or "无法解密".

Steps in the order a bidder on site should try them, each in Chinese and English. With
a :class:`~app.diagnostics.model.DiagnosticReport`, the steps that match what the
diagnosis found (driver missing, PIN locked, clock wrong ...) are marked, so the GUI
can put them first and highlight them.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.diagnostics.model import DiagnosticReport, Status, Text


@dataclass(frozen=True)
class Step:
    text: Text
    #: Check ids whose warning/error makes this step the likely fix.
    when: tuple[str, ...] = ()
    highlighted: bool = False


@dataclass(frozen=True)
class Guide:
    id: str
    title: Text
    steps: tuple[Step, ...]

    def text(self, lang: str = "zh") -> str:
        lines = [self.title.get(lang)]
        for n, step in enumerate(self.steps, 1):
            lines.append(f"{'>>' if step.highlighted else '  '} {n}. {step.text.get(lang)}")
        return "\n".join(lines)


_CERT_UNREADABLE = Guide("cert_unreadable", Text("证书无法读取", "The certificate cannot be read"), (
    Step(Text("拔下 UKey，等 5 秒后重新插入，看指示灯是否亮起。",
              "Unplug the UKey, wait 5 seconds, plug it in again and check that its light comes on."),
         ("keys",)),
    Step(Text("换一个 USB 口：优先用主机背面的 USB 口，不要用集线器或延长线。",
              "Try another USB port: prefer one at the back of the computer, no hub or extension cable."),
         ("keys",)),
    Step(Text("确认已安装 CA 提供的 UKey 驱动；驱动装在非常规位置时，在“设置 → SKF 驱动库”中添加驱动文件，再点“一键检测”。",
              "Check that your CA's UKey driver is installed; if it sits somewhere unusual, add its file under "
              "Settings → SKF libraries, then run the diagnosis again."), ("skf_libraries",)),
    Step(Text("Linux：确认智能卡服务在运行（sudo systemctl enable --now pcscd）；Windows：确认“Smart Card”服务已启动。",
              "Linux: make sure the smart-card service runs (sudo systemctl enable --now pcscd); Windows: "
              "make sure the Smart Card service is started."), ("pcsc",)),
    Step(Text("关闭其他可能占用 UKey 的程序（其他 CA 的证书助手、浏览器签章插件），再重试。",
              "Close other programs that may hold the key (other CAs' certificate tools, browser signing "
              "plug-ins) and try again.")),
    Step(Text("证书显示已过期或未生效时，先核对电脑的日期和时间；时间正确而证书确已过期，请联系 CA 更新。",
              "If the certificate shows as expired or not yet valid, check the computer's date and time first; "
              "if they are right, ask your CA to renew it."), ("clock", "certificates")),
    Step(Text("换一台电脑试同一个 UKey；仍不行则 UKey 可能已损坏：联系 CA 补办，并按“无法解密”的指引用恢复密钥文件或交易中心应急证书开标。",
              "Try the same key on another computer; if it still fails the key may be broken: ask your CA for a "
              "new one and follow 'cannot decrypt' to open the bid with the recovery file or the centre's "
              "emergency certificate.")),
))

_CANNOT_DECRYPT = Guide("cannot_decrypt", Text("无法解密", "Cannot decrypt"), (
    Step(Text("确认插入的是加密时用的 UKey：解密窗口会显示文件需要的证书（单位、序列号）和当前 UKey 持有的证书。",
              "Check that the key is the one the bid was encrypted for: the decrypt window shows the certificate "
              "the file needs (unit, serial) and the ones the inserted keys hold."), ("keys",)),
    Step(Text("口令输错时注意剩余次数；只剩 3 次以内时先确认口令，不要盲试。",
              "After a wrong PIN watch the attempts left; with 3 or fewer, make sure of the PIN before trying."),
         ("pin",)),
    Step(Text("口令已锁定：用管理员口令解锁（UKey 面板 → 解锁口令），或联系 CA 解锁，然后再解密。",
              "PIN locked: unblock it with the admin PIN (key panel → Unblock PIN) or at your CA, then decrypt."),
         ("pin",)),
    Step(Text("提示文件损坏或被篡改（完整性校验失败）时：从交易系统重新下载投标文件后再解密。",
              "If the file is reported damaged or altered (integrity check failed): download the envelope from "
              "the trading system again and decrypt that copy.")),
    Step(Text("加密证书已更新或更换（更新会重新签发加密密钥）：选“使用恢复密钥文件”，输入恢复密钥口令解密。",
              "The encryption certificate was renewed or changed (renewal re-issues the key): choose 'use a "
              "recovery key file' and enter its passphrase."), ("envelopes", "certificates")),
    Step(Text("UKey 损坏或丢失：用恢复密钥文件解密；没有恢复密钥文件时，请交易中心用应急证书解密（加密时需已加入应急证书）。",
              "Key broken or lost: decrypt with the recovery key file; without one, ask the trading centre to "
              "decrypt with its emergency certificate (it must have been added when encrypting).")),
    Step(Text("磁盘已满或文件夹不可写：换一个输出文件夹或清理磁盘后重试；BidSeal 不会留下不完整的明文文件。",
              "Disk full or folder not writable: choose another output folder or free space and try again; "
              "BidSeal never leaves a partial plaintext file."), ("disk",)),
    Step(Text("仍无法解决：点“生成支持报告”，发给 CA 或交易中心的技术支持（报告中没有口令、私钥和投标文件）。",
              "Still stuck: click 'make a support report' and send it to your CA's or the centre's support (it "
              "holds no PIN, private key or bid document).")),
))

GUIDES = {g.id: g for g in (_CERT_UNREADABLE, _CANNOT_DECRYPT)}


def emergency_guide(kind: str, report: DiagnosticReport | None = None) -> Guide:
    """The guide ``kind`` ("cert_unreadable" or "cannot_decrypt"); with ``report``, steps
    matching a warning or error of the diagnosis are highlighted."""
    guide = GUIDES[kind]
    if report is None:
        return guide
    bad = {c.id for c in report.checks if c.status in (Status.ERROR, Status.WARNING)}
    steps = tuple(Step(s.text, s.when, bool(bad.intersection(s.when))) for s in guide.steps)
    return Guide(guide.id, guide.title, steps)
