"""Generate ``bid-sample.pdf``: a realistic multi-page Chinese bid document for demos.

Run from the repository root::

    python resources/samples/make_sample_bid.py [-o resources/samples/bid-sample.pdf]

The last page is the bid letter's signature block with the texts
``投标人（盖章）`` and ``法定代表人（签字或盖章）`` that ``bidseal sign --keyword``
finds. Only pymupdf and its built-in CJK font (``china-s``) are used, so the output
is the same on every machine (the creation date is fixed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pymupdf

HERE = Path(__file__).resolve().parent
FONT = "china-s"
A4 = pymupdf.paper_rect("a4")
MARGIN = 64

PROJECT = "沈阳市浑南区某道路改造工程施工（第一标段）"
PROJECT_CODE = "LNZC-2026-0815-01"
BIDDER = "辽宁示例建设工程有限公司"
LEGAL = "张三"

SECTIONS: list[tuple[str, list[str]]] = [
    ("一、投标函", [
        "致：辽宁省公共资源交易中心、沈阳市浑南区城市建设局",
        f"1. 我方已仔细研究了“{PROJECT}”（项目编号：{PROJECT_CODE}）招标文件的全部内容，"
        "愿意以人民币（大写）叁仟贰佰捌拾万元整（¥32,800,000.00）的投标总报价，"
        "工期 240 日历天，按合同约定实施和完成承包工程，修补工程中的任何缺陷，工程质量达到合格标准。",
        "2. 我方承诺在招标文件规定的投标有效期 90 日内不修改、撤销投标文件。",
        "3. 随同本投标函提交投标保证金一份，金额为人民币（大写）伍拾万元整（¥500,000.00）。",
        "4. 如我方中标：我方承诺在收到中标通知书后，在中标通知书规定的期限内与你方签订合同；"
        "随同本投标函递交的投标函附录属于合同文件的组成部分；我方承诺按照招标文件规定向你方递交履约担保；"
        "我方承诺在合同约定的期限内完成并移交全部合同工程。",
        "5. 我方在此声明，所递交的投标文件及有关资料内容完整、真实和准确。",
    ]),
    ("二、法定代表人身份证明", [
        f"投标人名称：{BIDDER}",
        "单位性质：有限责任公司",
        "地址：辽宁省沈阳市和平区示例路 88 号",
        "成立时间：2008 年 6 月 18 日",
        "经营期限：长期",
        f"姓名：{LEGAL}　性别：男　年龄：46 岁　职务：董事长",
        f"系 {BIDDER} 的法定代表人。特此证明。",
    ]),
    ("三、授权委托书", [
        f"本人 {LEGAL} 系 {BIDDER} 的法定代表人，现委托 李四 为我方代理人。代理人根据授权，"
        f"以我方名义签署、澄清、说明、补正、递交、撤回、修改“{PROJECT}”投标文件、签订合同和处理有关事宜，"
        "其法律后果由我方承担。委托期限：自投标截止之日起 90 日。代理人无转委托权。",
    ]),
    ("四、已标价工程量清单（摘要）", [
        "序号　项目编码　　　　项目名称　　　　　　单位　　工程量　　综合单价（元）　合价（元）",
        "1　　040101001001　挖一般土方　　　　　m³　　 18,650　　　 32.50　　　　　606,125.00",
        "2　　040202002001　石灰稳定土基层　　　m²　　 42,300　　　 48.20　　　　2,038,860.00",
        "3　　040203006001　沥青混凝土面层　　　m²　　 41,880　　　186.00　　　　7,789,680.00",
        "4　　040204002001　人行道块料铺设　　　m²　　 12,460　　　 96.80　　　　1,206,128.00",
        "5　　040504001001　雨水检查井　　　　　座　　　　 186　　 8,650.00　　　1,608,900.00",
        "……（详见电子清单）",
    ]),
    ("五、施工组织设计（摘要）", [
        "1. 工程概况：道路全长约 2.6 公里，红线宽度 40 米，包括道路、排水、照明、交通及绿化工程。",
        "2. 施工部署：设项目经理部，下设工程技术部、质量安全部、物资设备部、综合办公室；"
        "按“先地下、后地上，先主线、后辅道”的原则分三个施工段流水作业。",
        "3. 质量保证措施：建立三检制度，关键工序实行旁站监理，原材料进场检验合格后方可使用。",
        "4. 安全文明施工：设置连续封闭围挡，配备专职安全员，夜间施工采取降噪措施，渣土车辆密闭运输。",
        "5. 工期保证措施：编制网络计划，关键线路资源优先保障，雨季施工提前储备排水设备。",
    ] * 3),
]


def _write_block(page: pymupdf.Page, y: float, text: str, size: float = 11.5) -> float:
    rect = pymupdf.Rect(MARGIN, y, A4.width - MARGIN, A4.height - MARGIN)
    rc = page.insert_textbox(rect, text, fontname=FONT, fontsize=size, lineheight=1.6)
    if rc < 0:
        return -1.0
    used = rect.height - rc
    return y + used + size * 0.8


def _new_page(doc: pymupdf.Document) -> pymupdf.Page:
    page = doc.new_page(width=A4.width, height=A4.height)
    page.insert_text((MARGIN, 40), f"{PROJECT}　投标文件", fontname=FONT, fontsize=9, color=(0.4, 0.4, 0.4))
    page.draw_line((MARGIN, 46), (A4.width - MARGIN, 46), color=(0.6, 0.6, 0.6), width=0.5)
    return page


def build(path: Path) -> Path:
    doc = pymupdf.open()
    cover = doc.new_page(width=A4.width, height=A4.height)
    cover.insert_textbox(pymupdf.Rect(MARGIN, 200, A4.width - MARGIN, 260), PROJECT, fontname=FONT, fontsize=20,
                         align=pymupdf.TEXT_ALIGN_CENTER)
    cover.insert_textbox(pymupdf.Rect(MARGIN, 300, A4.width - MARGIN, 360), "投　标　文　件", fontname=FONT,
                         fontsize=30, align=pymupdf.TEXT_ALIGN_CENTER)
    for i, line in enumerate([f"项目编号：{PROJECT_CODE}", f"投标人：{BIDDER}（盖单位章）",
                              f"法定代表人或其委托代理人：{LEGAL}（签字）", "2026 年 11 月 23 日"]):
        cover.insert_text((150, 520 + 32 * i), line, fontname=FONT, fontsize=14)

    for title, paragraphs in SECTIONS:
        page = _new_page(doc)
        y = _write_block(page, 70, title, size=16)
        for para in paragraphs:
            ny = _write_block(page, y, "　　" + para)
            if ny < 0:
                page = _new_page(doc)
                ny = _write_block(page, 70, "　　" + para)
            y = ny

    last = _new_page(doc)
    y = _write_block(last, 70, "六、投标函签署页", size=16)
    y = _write_block(last, y, f"　　本投标文件由 {BIDDER} 编制并递交，对其真实性、合法性负责。"
                              "以下签章为本投标文件的有效签署。")
    last.insert_text((MARGIN + 20, 560), "投标人（盖章）：", fontname=FONT, fontsize=14)
    last.insert_text((MARGIN + 150, 560), BIDDER, fontname=FONT, fontsize=14)
    last.insert_text((MARGIN + 20, 660), "法定代表人（签字或盖章）：", fontname=FONT, fontsize=14)
    last.insert_text((MARGIN + 20, 740), "日期：2026 年 11 月 23 日", fontname=FONT, fontsize=14)

    for i, page in enumerate(doc):
        if i:
            page.insert_text((A4.width / 2 - 20, A4.height - 30), f"第 {i + 1} 页  共 {doc.page_count} 页",
                             fontname=FONT, fontsize=9, color=(0.4, 0.4, 0.4))
    doc.set_metadata({"title": f"{PROJECT} 投标文件", "author": BIDDER, "subject": PROJECT_CODE,
                      "creator": "BidSeal sample generator", "producer": "PyMuPDF",
                      "creationDate": "D:20261123090000+08'00'", "modDate": "D:20261123090000+08'00'"})
    doc.save(path, garbage=3, deflate=True, no_new_id=True)
    doc.close()
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", type=Path, default=HERE / "bid-sample.pdf")
    args = ap.parse_args(argv)
    out = build(args.output)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
