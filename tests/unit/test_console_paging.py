"""Paging pieces of the console lists (分页): the keyset cursor in the URL and the pager line."""

from __future__ import annotations

from urllib.parse import parse_qs

from hypothesis import given
from hypothesis import strategies as st

from yibao.encounter.listing import Cursor
from yibao.web.paging import Pager

TEXT = st.text(alphabet=st.characters(blacklist_characters="~", blacklist_categories=("Cs",)))


@given(TEXT, TEXT.filter(bool), st.booleans())
def test_cursor_round_trips(value: str, setl_id: str, before: bool) -> None:
    c = Cursor(value, setl_id, before=before)
    assert Cursor.decode(c.encode()) == c


def test_garbage_cursors_are_ignored() -> None:
    for raw in ("", "x", "a~1", "c~1~S", "a~1~", "a~1~S~extra"):
        assert Cursor.decode(raw) is None


def test_pager_line_and_links_keep_filters() -> None:
    p = Pager(2, 50, {"insutype": "390", "sort": "medfee_desc"})
    assert p.summary(3003) == "共 3,003 条 · 第 2 / 61 页"
    assert p.summary(250_000, estimated=True) == "共 约 250,000 条 · 第 2 / 5,000 页"
    assert p.summary(0) == "共 0 条 · 第 2 / 1 页"
    nxt = parse_qs(p.next_link("a~2026-11-01T08:00:00+08:00~S1")[1:])
    assert nxt == {
        "insutype": ["390"],
        "sort": ["medfee_desc"],
        "after": ["a~2026-11-01T08:00:00+08:00~S1"],
        "p": ["3"],
    }
    # back to page 1: no cursor at all, the filters stay
    assert parse_qs(p.prev_link("b~x~S0")[1:]) == {"insutype": ["390"], "sort": ["medfee_desc"]}
    assert p.next_link("") == "" and p.prev_link("") == ""
    assert Pager(5, 50).prev_link("b~x~S0") == "?after=b~x~S0&p=4"
    assert p.export_link("/console/settlements.csv") == (
        "/console/settlements.csv?insutype=390&sort=medfee_desc"
    )


def test_page_numbers_from_the_url() -> None:
    from yibao.web.paging import number

    assert [number(x) for x in ("1", "7", "0", "-2", "abc", "", "9" * 12)] == [1, 7, 1, 1, 1, 1, 1]
