"""One chart per quantity: its claims over time, as SVG text written by hand.

x is the document's date (claims from undated documents sit in a "no date" column at
the left), y the number. Each claimant has its own colour and marker, named in the
legend; a claim's interval is a vertical line from low to high (dashed to the edge of
the plot when a bound is open: "up to" has no low, "at least" no high), with a marker
at best when the claim gives one and a short cap at each known bound. Claims of one
date are set side by side. No network, no browser, no randomness: the same claims give
the same bytes.
"""

from __future__ import annotations

import math
import textwrap
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

import polars as pl

WIDTH, HEIGHT = 760, 380
LEFT, RIGHT, TOP, BOTTOM = 70, 500, 56, 320  # the plot area
# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
SHAPES = ("circle", "square", "triangle", "diamond")
NO_DATE = "no date"
CHAR_WIDTH = 6  # px per character at 11 px, a generous estimate for sans-serif
LINE = 14  # px between the lines of a wrapped subtitle
SUBTITLE_CHARS = (WIDTH - LEFT - 10) // CHAR_WIDTH
LEGEND_CHARS = (WIDTH - RIGHT - 42 - 4) // CHAR_WIDTH


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == round(value) else f"{value:,.2f}"


def _tick(value: float) -> str:
    """An axis label short enough for the left margin: millions and up abbreviated."""
    for size, name in ((1e12, "tn"), (1e9, "bn"), (1e6, "M")):
        if value >= size:
            return f"{value / size:,.3g} {name}"
    return _number(value)


def _step(top: float) -> float:
    """A round tick step that gives four to eight ticks up to `top`."""
    raw = top / 5 if top > 0 else 1
    power = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= mult * power:
            return float(mult * power)
    return float(10 * power)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    fill = f'fill="{colour}" stroke="#ffffff" stroke-width="1"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" {fill}/>'
    if shape == "square":
        return f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" {fill}/>'
    if shape == "triangle":
        pts = f"{x:.1f},{y - 6:.1f} {x - 5.5:.1f},{y + 4:.1f} {x + 5.5:.1f},{y + 4:.1f}"
        return f'<polygon points="{pts}" {fill}/>'
    pts = f"{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"
    return f'<polygon points="{pts}" {fill}/>'


def _x_slots(days: list[date | None]) -> dict[date | None, float]:
    """The x of each distinct date (and of "no date"), spread linearly in time."""
    dated = sorted({d for d in days if d is not None})
    left = LEFT + 30
    out: dict[date | None, float] = {}
    if None in days:
        out[None] = left
        left += 60
    right = RIGHT - 30
    if len(dated) == 1:
        out[dated[0]] = (left + right) / 2
    for d in dated if len(dated) > 1 else []:
        span = (dated[-1] - dated[0]).days
        out[d] = left + (right - left) * (d - dated[0]).days / span
    return out


def _bounds(row: dict[str, Any]) -> tuple[float | None, float | None]:
    low = row["low"] if row["low"] is not None else row["best"]
    high = row["high"] if row["high"] is not None else row["best"]
    return low, high


def _label(row: dict[str, Any]) -> str:
    return str(row["claimant_canonical"] or row["claimant_name"] or row["claimant"])


def render_chart(quantity: str, claims: pl.DataFrame, description: str = "") -> str:
    """The SVG of one quantity's claims (rows of the claims table)."""
    rows = claims.filter(pl.col("quantity") == quantity).to_dicts()
    values = [v for r in rows for v in (r["low"], r["best"], r["high"]) if v is not None]
    step = _step(max(values, default=1) * 1.1)
    top = step * max(1, math.ceil(max(values, default=1) * 1.1 / step))

    def y_of(value: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * value / top

    claimants = list(dict.fromkeys(r["claimant"] for r in rows))
    style = {
        c: (PALETTE[i % len(PALETTE)], SHAPES[i % len(SHAPES)]) for i, c in enumerate(claimants)
    }
    slots = _x_slots([r["published"] for r in rows])
    head = rows[0] if rows else {"counted": "", "unit": "", "event_cluster": None}
    subtitle = textwrap.wrap(
        f"{description or ''} ({head['counted']}, {head['unit']}; event cluster "
        f"{head['event_cluster'] or 'none'})".strip(),
        SUBTITLE_CHARS,
    )
    shift = LINE * (len(subtitle) - 1)  # the plot moves down by the subtitle's extra lines
    height = HEIGHT + shift
    lines = "".join(
        f'<tspan x="{LEFT}" dy="{0 if i == 0 else LINE}">{escape(line)}</tspan>'
        for i, line in enumerate(subtitle)
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(quantity)}: claims over time</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{escape(quantity)}</text>',
        f'<text x="{LEFT}" y="38" fill="#444444">{lines}</text>',
        f'<g transform="translate(0,{shift})">',
    ]
    tick = 0.0
    while tick <= top + 1e-9:
        y = y_of(tick)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_tick(tick)}</text>')
        tick += step
    out.append(f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="#333333"/>')
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}" stroke="#333333"/>')
    for day, x in sorted(slots.items(), key=lambda kv: kv[1]):
        text = NO_DATE if day is None else day.isoformat()
        out.append(f'<text x="{x:.1f}" y="{BOTTOM + 16}" text-anchor="middle">{text}</text>')
    out.append(
        f'<text x="{(LEFT + RIGHT) / 2:.0f}" y="{BOTTOM + 36}" text-anchor="middle" '
        'fill="#444444">document date</text>'
    )
    out += _marks(rows, slots, style, y_of)
    out += _legend(rows, claimants, style)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _marks(
    rows: list[dict[str, Any]],
    slots: dict[date | None, float],
    style: dict[str, tuple[str, str]],
    y_of: Any,
) -> list[str]:
    out = []
    by_day: dict[date | None, list[dict[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["published"], []).append(row)
    for day, group in by_day.items():
        for i, row in enumerate(group):
            x = slots[day] + (i - (len(group) - 1) / 2) * 12
            colour, shape = style[row["claimant"]]
            low, high = _bounds(row)
            quote = escape(f"{_label(row)}: {row['span_text'] or ''} ({row['document_id']})")
            out.append(f"<g><title>{quote}</title>")
            y_low = y_of(low) if low is not None else BOTTOM  # open below: to zero
            y_high = y_of(high) if high is not None else TOP  # open above: to the top
            dash = ' stroke-dasharray="4 3"' if low is None or high is None else ""
            if low is not None or high is not None:
                out.append(
                    f'<line x1="{x:.1f}" y1="{y_low:.1f}" x2="{x:.1f}" y2="{y_high:.1f}" '
                    f'stroke="{colour}" stroke-width="2"{dash}/>'
                )
            for bound in (low, high):
                if bound is not None:
                    y = y_of(bound)
                    out.append(
                        f'<line x1="{x - 5:.1f}" y1="{y:.1f}" x2="{x + 5:.1f}" y2="{y:.1f}" '
                        f'stroke="{colour}" stroke-width="2"/>'
                    )
            if row["best"] is not None:
                out.append(_marker(shape, x, y_of(row["best"]), colour))
            out.append("</g>")
    return out


def _legend(
    rows: list[dict[str, Any]], claimants: list[str], style: dict[str, tuple[str, str]]
) -> list[str]:
    names = {r["claimant"]: _label(r) for r in rows}
    out = [f'<text x="{RIGHT + 24}" y="{TOP}" font-weight="bold">claimant</text>']
    for i, claimant in enumerate(claimants):
        colour, shape = style[claimant]
        y = TOP + 20 + i * 18
        name = names[claimant]
        short = name if len(name) <= LEGEND_CHARS else name[: LEGEND_CHARS - 1].rstrip() + "…"
        out.append(f"<g><title>{escape(name)}</title>")  # the full name on hover
        out.append(_marker(shape, RIGHT + 30, y - 4, colour))
        out.append(f'<text x="{RIGHT + 42}" y="{y:.0f}">{escape(short)}</text></g>')
    y = TOP + 30 + len(claimants) * 18
    out.append(
        f'<text x="{RIGHT + 24}" y="{y}" fill="#444444">marker: best; line: low to high</text>'
    )
    out.append(f'<text x="{RIGHT + 24}" y="{y + 14}" fill="#444444">dashed: an open bound</text>')
    return out


def chart_name(quantity: str) -> str:
    """The chart's file name in a release's charts/ folder."""
    return f"{quantity}.svg"
