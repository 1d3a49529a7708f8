"""The ring diagram: one state of the data area drawn as an SVG ring.

The data area is a ring of 8-byte words, offset 0 at the top, growing
clockwise. Each word is coloured by the record that last wrote it (records of
one producer share a hue, one shade per attempt) and styled by that record's
state: hatched while busy, solid once submitted, pale and dashed once
discarded, outlined only once the consumer has moved past it (consumed).
Header words show their header fields (owner, len, BUSY/DISCARD bits). Outside
the ring, one band per reserved record shows the bytes it claims, from its
position for its rounded length; bands that cover the same words are records
that overlap, and a band that goes round more than once is a record longer
than the ring; words claimed twice by live records get a red outline. Inside the ring, labelled markers point at producer_pos,
consumer_pos and (v6.10) pending_pos. Beside the ring, a table lists every
record with its owner, state, position, size and the header as it now stands
in memory.

``ring_svg`` draws one state; ``trace_svg`` the final state of a trace with
its verdict, as a standalone ``.svg`` file.
"""

from __future__ import annotations

import math
from html import escape

from checker.graphs.attrs import record_owner
from checker.trace import Trace
from model.codec import len_word_str
from model.config import Config
from model.constants import HDR_SZ, U64, round_up8
from model.state import (DISCARDED, FAILED, KIND_HEADER, KIND_PAYLOAD, SUBMITTED, UNUSED, State,
                         read_len, slot_kind, slot_owner)

SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
"""Only standalone files carry the namespace; inline SVG in HTML5 needs none (and so no URL)."""

HUES = (("#1f5fa8", "#5b9bd5", "#9cc3e6", "#2e75b6"), ("#c55a11", "#f4a460", "#f8cbad", "#e07b39"),
        ("#548235", "#8fbc5a", "#c5e0b4", "#70ad47"), ("#7030a0", "#a57bc8", "#d5bfe6", "#8e59b8"))
"""Record colours: one hue per producer, one shade per reservation attempt."""

MARKERS = (("prod", "producer_pos", "#000000"), ("cons", "consumer_pos", "#1f77b4"),
           ("pend", "pending_pos", "#d62728"))

WIDTH, HEIGHT = 780, 450
CX, CY, R_IN, R_OUT = 200, 250, 78, 128
HALO = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"'
"""Text attributes that keep a label readable over a hatched word."""
LABEL_WORDS = 64
"""Rings with more words than this are drawn without per-word labels."""


def record_colour(config: Config, rid: int) -> str:
    """The colour of record ``rid``: its owner's hue, its attempt's shade."""
    hue = HUES[record_owner(config, rid) % len(HUES)]
    return hue[(rid % config.records) % len(hue)]


def distance(a: int, b: int) -> int:
    """``a - b`` modulo 2**64, as the kernel computes position differences."""
    return (a - b) & U64


def record_state(config: Config, s: State, rid: int) -> str:
    """unused, failed, busy, submitted, discarded or consumed (committed and passed by the consumer)."""
    r = s.records[rid]
    if r.status in (SUBMITTED, DISCARDED):
        end = r.pos + round_up8(r.size + HDR_SZ)
        delivered = any(rec == rid for rec, _ in s.delivered)
        if delivered or (config.honest and distance(s.consumer_pos, end) < 1 << 63):
            return "consumed"
    return ("unused", "failed", "busy", "submitted", "discarded")[r.status]


def header_fields(config: Config, s: State, rid: int) -> str:
    """What the record's header word holds now: its own len|flags, or who overwrote it."""
    r = s.records[rid]
    if r.status in (UNUSED, FAILED):
        return ""
    w = s.slots[(r.pos & config.mask) // 8]
    if slot_kind(w) == KIND_HEADER and slot_owner(w) == rid:
        return f"len={len_word_str(read_len(w))} pg_off ok"
    if slot_kind(w) == KIND_HEADER:
        return f"CLOBBERED by header of r{slot_owner(w)} (len={len_word_str(read_len(w))})"
    if slot_kind(w) == KIND_PAYLOAD:
        return f"CLOBBERED by payload of r{slot_owner(w)}"
    return "empty"


def _point(angle: float, r: float) -> tuple[float, float]:
    return CX + r * math.sin(angle), CY - r * math.cos(angle)


def _sector(a0: float, a1: float, r0: float, r1: float) -> str:
    large = 1 if a1 - a0 > math.pi else 0
    (x0, y0), (x1, y1) = _point(a0, r1), _point(a1, r1)
    (x2, y2), (x3, y3) = _point(a1, r0), _point(a0, r0)
    return (f"M{x0:.1f},{y0:.1f} A{r1},{r1} 0 {large} 1 {x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f} "
            f"A{r0},{r0} 0 {large} 0 {x3:.1f},{y3:.1f} Z")


def _arc(a0: float, a1: float, r: float) -> str:
    (x0, y0), (x1, y1) = _point(a0, r), _point(a1, r)
    return f"M{x0:.1f},{y0:.1f} A{r},{r} 0 0 1 {x1:.1f},{y1:.1f}"


def _defs(config: Config, uid: str) -> str:
    pats = []
    for rid in range(config.producers * config.records):
        col = record_colour(config, rid)
        pats.append(f'<pattern id="{uid}-busy-r{rid}" width="8" height="8" patternUnits="userSpaceOnUse" '
                    f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/>'
                    f'<rect width="4" height="8" fill="{col}"/></pattern>')
    return "<defs>" + "".join(pats) + "</defs>"


def _word_style(config: Config, s: State, word: int, uid: str) -> tuple[str, str]:
    """(SVG attributes, text colour) of one word of the data area."""
    if slot_kind(word) not in (KIND_HEADER, KIND_PAYLOAD):
        return 'fill="#f2f2f2" stroke="#999999"', "#999999"
    rid = slot_owner(word)
    col = record_colour(config, rid)
    st = record_state(config, s, rid) if rid < len(s.records) else "busy"
    if st == "busy":
        return f'fill="url(#{uid}-busy-r{rid})" stroke="{col}" stroke-width="2"', "#000000"
    if st == "submitted":
        return f'fill="{col}" stroke="#333333"', "#000000"
    if st == "discarded":
        return f'fill="{col}" fill-opacity="0.3" stroke="#333333" stroke-dasharray="4,3"', "#555555"
    return f'fill="#ffffff" stroke="{col}" stroke-width="2" stroke-dasharray="1,2"', "#888888"


def _big_ring(config: Config, s: State, uid: str) -> list[str]:
    """A ring too fine to label word by word: one sector per run of equal words, offsets every 1/8."""
    n = config.slots
    step = 2 * math.pi / n
    out = []
    start = 0
    for i in range(1, n + 1):
        if i < n and s.slots[i] == s.slots[start] and i - start < n // 4:
            continue
        attrs, _ = _word_style(config, s, s.slots[start], uid)
        out.append(f'<path class="word" data-offset="{8 * start}" data-words="{i - start}" '
                   f'd="{_sector(start * step, i * step, R_IN, R_OUT)}" {attrs}/>')
        start = i
    for k in range(8):
        bx, by = _point(k * n // 8 * step, R_OUT + 4)
        out.append(f'<text x="{bx:.1f}" y="{by:.1f}" font-size="9" text-anchor="middle" '
                   f'fill="#666666" {HALO}>{8 * (k * n // 8):#x}</text>')
    return out


def _ring(config: Config, s: State, uid: str) -> list[str]:
    n = config.slots
    if n > LABEL_WORDS:
        return _big_ring(config, s, uid)
    step = 2 * math.pi / n
    out = []
    for i, w in enumerate(s.slots):
        attrs, ink = _word_style(config, s, w, uid)
        out.append(f'<path class="word" data-offset="{8 * i}" d="{_sector(i * step, (i + 1) * step, R_IN, R_OUT)}" '
                   f'{attrs}/>')
        mid = (i + 0.5) * step
        x, y = _point(mid, (R_IN + R_OUT) / 2)
        kind = slot_kind(w)
        lines = ([f"hdr r{slot_owner(w)}", len_word_str(read_len(w))] if kind == KIND_HEADER else
                 [f"data r{slot_owner(w)}"] if kind == KIND_PAYLOAD else ["empty"])
        size = 11 if n <= 8 else 8
        for k, text in enumerate(lines):
            dy = (k - (len(lines) - 1) / 2) * (size + 2)
            out.append(f'<text x="{x:.1f}" y="{y + dy + size / 3:.1f}" font-size="{size}" '
                       f'text-anchor="middle" fill="{ink}" {HALO}>{escape(text)}</text>')
        bx, by = _point(i * step, R_OUT + 6 if n <= 16 else R_OUT + 3)
        if n <= 16 or i % (n // 16) == 0:
            out.append(f'<text x="{bx:.1f}" y="{by:.1f}" font-size="9" text-anchor="middle" '
                       f'fill="#666666">{8 * i}</text>')
    return out


def runs(indexes: list[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive runs ``[a, b)`` of sorted word indexes, each at most ``limit`` long (arcs stay < 180 degrees)."""
    out: list[tuple[int, int]] = []
    for i in indexes:
        if out and out[-1][1] == i and out[-1][1] - out[-1][0] < limit:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def band_radius(lane: int, lap: int) -> int:
    """Radius of a record's band outside the ring: one lane per reservation order (mod 3), one ring per lap."""
    return R_OUT + 16 + 9 * (2 * lane + lap)


def _extents(config: Config, s: State) -> tuple[list[str], list[str]]:
    """(bands, labels): the bytes each reserved record claims, and its name just beyond all bands.

    The labels go outside the outermost band and are drawn after every band,
    so no record's band hides another's name; names of records that start at
    the same word are stacked outwards.
    """
    n = config.slots
    step = 2 * math.pi / n
    gap = min(0.02, step / 4)
    out = []
    starts: list[tuple[int, int]] = []
    outer = R_OUT + 16
    for rid, r in enumerate(s.records):
        if r.status in (UNUSED, FAILED):
            continue
        col = record_colour(config, rid)
        words = round_up8(r.size + HDR_SZ) // 8
        first = (r.pos & config.mask) // 8
        lane = max(r.seq, 0) % 3
        laps: dict[int, list[int]] = {}
        for j in range(words):
            laps.setdefault(j // n, []).append((first + j) % n)
        for lap, idx in laps.items():
            radius = band_radius(lane, lap)
            outer = max(outer, radius)
            for a, b in runs(sorted(idx), max(1, n // 4)):
                out.append(f'<path class="extent" data-record="r{rid}" '
                           f'd="{_arc(a * step + gap, b * step - gap, radius)}" '
                           f'stroke="{col}" stroke-width="6" fill="none"/>')
        starts.append((rid, first))
    labels = []
    for k, (rid, first) in enumerate(starts):
        stacked = sum(1 for _, f in starts[:k] if f == first)
        x, y = _point((first + 0.5) * step, outer + 12 + 11 * stacked)
        labels.append(f'<text class="extent-label" data-record="r{rid}" x="{x:.1f}" y="{y:.1f}" font-size="10" '
                      f'fill="{record_colour(config, rid)}" font-weight="bold" text-anchor="middle" '
                      f'dominant-baseline="central" {HALO}>r{rid}</text>')
    return out, labels


def overlapping_words(config: Config, s: State) -> list[int]:
    """Word indexes claimed twice by live records (busy, submitted or discarded, not yet consumed)."""
    claims: dict[int, int] = {}
    for rid, r in enumerate(s.records):
        if record_state(config, s, rid) not in ("busy", "submitted", "discarded"):
            continue
        first = (r.pos & config.mask) // 8
        for j in range(round_up8(r.size + HDR_SZ) // 8):
            i = (first + j) % config.slots
            claims[i] = claims.get(i, 0) + 1
    return sorted(i for i, n in claims.items() if n > 1)


def _overlaps(config: Config, s: State) -> list[str]:
    step = 2 * math.pi / config.slots
    return [f'<path class="overlap" data-offset="{8 * a}" d="{_sector(a * step, b * step, R_IN, R_OUT)}" '
            f'fill="none" stroke="#d62728" stroke-width="4"/>'
            for a, b in runs(overlapping_words(config, s), max(1, config.slots // 4))]


def offsets_text(indexes: list[int]) -> str:
    """Word indexes as byte offsets, ranges joined: ``0, 16-40``."""
    return ", ".join(str(8 * a) if b == a + 1 else f"{8 * a}-{8 * (b - 1)}" for a, b in runs(indexes, 1 << 62))


def _markers(config: Config, s: State) -> list[str]:
    n = config.slots
    step = 2 * math.pi / n
    out = []
    for k, (name, field, col) in enumerate(MARKERS):
        if name == "pend" and not config.has_pending:
            continue
        pos = getattr(s, field)
        a = ((pos & config.mask) // 8) * step
        x0, y0 = _point(a, R_IN - 2)
        x1, y1 = _point(a, R_IN - 14 - 14 * k)
        tx, ty = _point(a + 0.25 / max(1, n / 8), R_IN - 18 - 14 * k)
        out.append(f'<line class="marker" data-marker="{name}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x0:.1f}" '
                   f'y2="{y0:.1f}" stroke="{col}" stroke-width="2"/>')
        out.append(f'<circle cx="{x0:.1f}" cy="{y0:.1f}" r="3" fill="{col}"/>')
        out.append(f'<text class="marker-label" x="{tx:.1f}" y="{ty:.1f}" font-size="10" fill="{col}" '
                   f'text-anchor="middle" {HALO}>{name} {pos}</text>')
    return out


def _table(config: Config, s: State, uid: str) -> list[str]:
    x, y = 410, 78
    out = [f'<text x="{x}" y="{y}" font-size="12" font-weight="bold">records (owner, state, bytes, header now)</text>']
    for rid, r in enumerate(s.records):
        y += 18
        st = record_state(config, s, rid)
        col = record_colour(config, rid)
        where = "" if r.status in (UNUSED, FAILED) else f"@{r.pos}+{round_up8(r.size + HDR_SZ)}"
        size = f"size={r.size}" if r.status != UNUSED else ""
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{col}"/>')
        out.append(f'<text class="record" data-record="r{rid}" x="{x + 18}" y="{y}" font-size="11">'
                   f'r{rid} p{record_owner(config, rid)} {st} {where} {size}</text>')
        hdr = header_fields(config, s, rid)
        if hdr:
            y += 14
            colour = "#d62728" if "CLOBBERED" in hdr else "#444444"
            out.append(f'<text x="{x + 30}" y="{y}" font-size="10" fill="{colour}">header: {escape(hdr)}</text>')
    both = overlapping_words(config, s)
    if both:
        y += 20
        out.append(f'<text x="{x}" y="{y}" font-size="11" fill="#d62728" font-weight="bold">claimed twice: '
                   f'offsets {escape(offsets_text(both))} (red outline)</text>')
    y += 26
    lock = "free" if s.lock < 0 else f"held by p{s.lock}"
    out.append(f'<text x="{x}" y="{y}" font-size="11">lock {lock}; irq_work '
               f'{"queued" if s.irq_pending else "idle"}; delivered: '
               f'{escape(", ".join(f"r{r}" for r, _ in s.delivered) or "none")}</text>')
    y += 30
    out.append(_legend(config, x, y, uid))
    return out


def ring_svg(config: Config, s: State, uid: str = "rb", standalone: bool = False, title: str = "") -> str:
    """One state as an SVG ring diagram; ``uid`` keeps ids unique when several share a page."""
    ns = f" {SVG_NS}" if standalone else ""
    parts = [f'<svg{ns} class="ring" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'font-family="monospace">', _defs(config, uid),
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    for k, line in enumerate(title.split("\n") if title else []):
        colour = "#d62728" if line.startswith("VIOLATED") else "#000000"
        parts.append(f'<text x="10" y="{18 + 16 * k}" font-size="12" font-weight="bold" '
                     f'fill="{colour}">{escape(line)}</text>')
    bands, labels = _extents(config, s)
    parts += bands + _ring(config, s, uid) + _overlaps(config, s) + _markers(config, s) + labels + _table(config, s, uid)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend(config: Config, x: int, y: int, uid: str) -> str:
    col = record_colour(config, 0)
    styles = (f'fill="url(#{uid}-busy-r0)" stroke="{col}"', f'fill="{col}"',
              f'fill="{col}" fill-opacity="0.3" stroke-dasharray="4,3" stroke="#333333"',
              f'fill="#ffffff" stroke="{col}" stroke-dasharray="1,2"')
    labels = ("busy", "submitted", "discarded", "consumed")
    return "".join(f'<rect x="{x + 90 * k}" y="{y}" width="60" height="10" {st}/>'
                   f'<text x="{x + 90 * k}" y="{y - 4}" font-size="10" fill="#444444">{label}</text>'
                   for k, (st, label) in enumerate(zip(styles, labels)))


def trace_svg(trace: Trace) -> str:
    """The final state of a trace with its verdict, as a standalone SVG file."""
    n = len(trace)
    last = f"after step {n}: {trace.steps[-1].action}" if n else "initial state"
    verdict = f"\nVIOLATED {trace.property}: {trace.reason}" if trace.property else ""
    title = f"{trace.config.describe()}\n{last}{verdict}"
    return ring_svg(trace.config, trace.final, "final", True, title)
