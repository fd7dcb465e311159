"""Keyword search tolerant of full-width/half-width brackets and spaces, with suggestions."""

from __future__ import annotations

import pymupdf
import pytest

from app.pdfsign.errors import KeywordNotFoundError
from app.pdfsign.keyword_text import find_spans, near_matches, normalise
from app.pdfsign.placement import KeywordPlacement, resolve


@pytest.mark.parametrize("written", [
    "投标人（盖章）", "投标人(盖章)", "投标人 （盖章）", "投 标 人（盖 章）", "投标人\u3000(盖章)", "投标人【盖章】",
    "投标人〔盖章〕", "投标人\u00a0(盖章)",
])
def test_variants_normalise_alike(written: str) -> None:
    assert normalise(written) in ("投标人(盖章)", "投标人[盖章]")
    assert normalise(written).replace("[", "(").replace("]", ")") == "投标人(盖章)"


def test_find_spans_maps_back_to_the_page_characters() -> None:
    chars = list("甲方：投 标 人 （盖 章）  日期")
    (start, end), = find_spans(chars, "投标人(盖章)")
    assert "".join(chars[start:end]) == "投 标 人 （盖 章）"
    assert find_spans(chars, "投标单位") == [] and find_spans(chars, "  ") == []


def _page(*lines: str) -> pymupdf.Document:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for i, text in enumerate(lines):
        page.insert_text((72, 500 + 60 * i), text, fontname="china-s", fontsize=14)
    return doc


@pytest.mark.parametrize("written", ["投标人 (盖章)", "投 标 人（盖章）", "投标人（盖 章）"])
def test_keyword_placement_finds_spelling_variants(written: str) -> None:
    doc = _page("第 1 页 投标文件", written)
    spots = resolve(doc, KeywordPlacement("投标人（盖章）"), (100, 100))
    assert len(spots) == 1
    x0, y0, x1, y1 = spots[0].spots[0].visible_rect
    assert 480 < (y0 + y1) / 2 < 580  # centred on the second line (baseline 560)


def test_exact_hits_are_used_as_before() -> None:
    doc = _page("投标人（盖章）", "投标人(盖章)")
    spots = resolve(doc, KeywordPlacement("投标人（盖章）", occurrence=None), (100, 100))
    assert len(spots) == 1  # the exact spelling is found; variants only when there is none


def test_not_found_suggests_what_the_document_says() -> None:
    doc = _page("投标单位（盖章）：", "法定代表人（签字或盖章）")
    with pytest.raises(KeywordNotFoundError) as exc:
        resolve(doc, KeywordPlacement("投标人（盖章）"), (100, 100))
    err = exc.value
    assert "投标单位(盖章)" in err.zh and "第 1 页" in err.zh
    assert "Similar text in the document" in err.en and "page 1" in err.en
    assert err.details["suggestions"][0] == {"text": "投标单位(盖章)", "page": 1}


def test_nothing_alike_gives_no_suggestion() -> None:
    assert near_matches("投标人（盖章）", [(1, "Lorem ipsum dolor sit amet")]) == []
    doc = _page("Lorem ipsum")
    with pytest.raises(KeywordNotFoundError) as exc:
        resolve(doc, KeywordPlacement("投标人（盖章）"), (100, 100))
    assert exc.value.details["suggestions"] == [] and "相近" not in exc.value.zh
