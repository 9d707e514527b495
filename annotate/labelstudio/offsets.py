"""Converting text offsets between Python and the browser.

sitrep's spans count Unicode code points (Python string indices). Label Studio's offsets
are counted by the browser in UTF-16 code units, where every character outside the Basic
Multilingual Plane (most emoji, some CJK, historic scripts) takes two units. The two
agree on text without such characters, so the conversion is free there; otherwise it is
a binary search over the positions of the wide characters.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property

_WIDE = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class OffsetMap:
    """Offsets of one text, both ways between code points and UTF-16 code units."""

    text: str

    @cached_property
    def wide(self) -> tuple[int, ...]:
        """Code-point positions of the characters that take two UTF-16 units."""
        if self.text.isascii():
            return ()
        return tuple(m.start() for m in _WIDE.finditer(self.text))

    @cached_property
    def _wide_utf16(self) -> tuple[int, ...]:
        return tuple(pos + n for n, pos in enumerate(self.wide))

    @cached_property
    def utf16_length(self) -> int:
        return len(self.text) + len(self.wide)

    def to_utf16(self, index: int) -> int:
        """The UTF-16 offset of code-point offset `index` (0 <= index <= len(text))."""
        if not 0 <= index <= len(self.text):
            raise ValueError(f"offset {index} is outside the text (0..{len(self.text)})")
        return index + bisect_left(self.wide, index)

    def from_utf16(self, unit: int) -> int:
        """The code-point offset of UTF-16 offset `unit`; an offset that falls inside a
        surrogate pair (between the two halves of one character) is refused."""
        if not 0 <= unit <= self.utf16_length:
            raise ValueError(f"UTF-16 offset {unit} is outside the text (0..{self.utf16_length})")
        before = bisect_right(self._wide_utf16, unit - 1)
        if before and self._wide_utf16[before - 1] + 1 == unit:
            raise ValueError(
                f"UTF-16 offset {unit} splits the character at {self.wide[before - 1]}"
            )
        return unit - before
