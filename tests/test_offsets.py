"""Offsets between code points (sitrep) and UTF-16 code units (the browser)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitrep.annotate.labelstudio.offsets import OffsetMap

TEXTS = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x1FAFF, exclude_categories=("Cs",)),
    max_size=60,
)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@given(TEXTS, st.data())
def test_every_boundary_round_trips_and_matches_the_browser_count(
    text: str, data: st.DataObject
) -> None:
    offsets = OffsetMap(text)
    index = data.draw(st.integers(0, len(text)))
    unit = offsets.to_utf16(index)
    assert unit == _utf16_len(text[:index])  # what a JavaScript string index would be
    assert offsets.from_utf16(unit) == index
    assert offsets.utf16_length == _utf16_len(text)


@given(TEXTS)
def test_a_span_keeps_its_text_through_utf16(text: str) -> None:
    offsets = OffsetMap(text)
    encoded = text.encode("utf-16-le")
    for start in range(len(text) + 1):
        end = len(text)
        a, b = offsets.to_utf16(start), offsets.to_utf16(end)
        assert encoded[2 * a : 2 * b].decode("utf-16-le") == text[start:end]


def test_emoji_shift_offsets_and_halves_are_refused() -> None:
    offsets = OffsetMap("a😀b")
    assert [offsets.to_utf16(i) for i in range(4)] == [0, 1, 3, 4]
    assert [offsets.from_utf16(u) for u in (0, 1, 3, 4)] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="splits the character at 1"):
        offsets.from_utf16(2)
    with pytest.raises(ValueError, match="outside the text"):
        offsets.to_utf16(5)


def test_bmp_text_needs_no_conversion() -> None:
    text = "Syria’s Ministry of Interior — “81 of the 120”"
    offsets = OffsetMap(text)
    assert offsets.wide == ()
    assert all(offsets.to_utf16(i) == i == offsets.from_utf16(i) for i in range(len(text) + 1))
