"""Graphviz DOT export, drawn the way TLC's ``-dump dot`` state graphs are.

States are boxes labelled with the positions, the lock, the data area word by
word and each actor's program point; the initial state has a thick border,
violating states are red, terminal states grey. Edges are labelled with the
action and coloured by step (every step of the protocol has its own colour,
the same in every file). Nodes of one BFS level share a rank, so the drawing
reads top to bottom as the search did. In a weak-memory trace an edge whose
step read a stale value is thick and says STALE, a flush edge is dashed.
A lasso's back edge (to the state its cycle starts at) is bold and dashed and
labelled as such, and that state has a double border. Render with ``dot -Tsvg file.dot``.
"""

from __future__ import annotations

import networkx as nx

from model.steps import STEPS

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
           "#7b4173", "#3182bd")
"""Edge colours for the first protocol steps (in STEPS order); later steps get ``_extra_colour``."""


def _extra_colour(k: int) -> str:
    """The k-th colour past the palette: hues a golden angle apart, so that every step
    (the kernel ring, its attacker, the overwrite mode and the user ring buffer: more
    steps than any fixed palette) keeps a colour of its own."""
    import colorsys
    r, g, b = colorsys.hls_to_rgb((0.13 + k * 0.381966) % 1.0, 0.42, 0.62)
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def step_colour(step: str) -> str:
    """The colour of a protocol step's edges (stable across files, distinct per step)."""
    names = list(STEPS)
    if step not in names:
        return "#000000"
    i = names.index(step)
    return PALETTE[i] if i < len(PALETTE) else _extra_colour(i - len(PALETTE))


def quote(text: object) -> str:
    """A DOT double-quoted string; newlines become left-justified line breaks."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\n", "\\l") + ('\\l"' if "\n" in s else '"')


def _node_line(n: int, d: dict) -> str:
    label = f"state {n}\n{d.get('label', '')}"
    style = ["rounded"]
    attrs = {"shape": "box", "fontname": "monospace", "fontsize": "10"}
    if d.get("violating"):
        label += f"\nVIOLATED {d['property']}:\n{d['reason']}"
        attrs.update(color="#d62728", fontcolor="#d62728")
    if d.get("terminal"):
        style.append("filled")
        attrs["fillcolor"] = "#eeeeee"
    attrs["penwidth"] = "3" if d.get("initial") else "1"
    if d.get("loop_start"):
        label += "\n(cycle starts here)"
        attrs["peripheries"] = "2"
    attrs["style"] = ",".join(style)
    body = ", ".join(f"{k}={quote(v)}" for k, v in attrs.items())
    return f"  {n} [label={quote(label)}, {body}];"


def _edge_line(u: int, v: int, d: dict) -> str:
    colour = step_colour(d.get("step", ""))
    label = str(d.get("action", ""))
    style = []
    extra = ""
    if d.get("back_edge") and d.get("step") != "stutter":
        label += " (back to the cycle start)"
    if d.get("stale_read"):
        label += f"\nreads: {d['reads']}"
        extra += ", penwidth=\"3\""
    elif d.get("flush"):
        label += f"\nFLUSH {d['flush']}"
        style.append("dashed")
    if d.get("back_edge"):
        style = ["bold", "dashed"]
        extra += ", constraint=false"
    if style:
        extra = f", style={quote(','.join(style))}" + extra
    return (f"  {u} -> {v} [label={quote(label)}, color={quote(colour)}, "
            f"fontcolor={quote(colour)}, fontsize=\"9\"{extra}];")


def dot_text(g: nx.DiGraph) -> str:
    """The graph as DOT text: boxes, coloured labelled edges, one rank per BFS level."""
    lines = [f"digraph {quote(g.graph.get('kind', 'graph'))} {{",
             f"  label={quote(g.graph.get('name', ''))};",
             "  labelloc=t;",
             "  rankdir=TB;",
             "  node [fontname=\"monospace\"];"]
    levels: dict[int, list[int]] = {}
    for n, d in g.nodes(data=True):
        lines.append(_node_line(n, d))
        levels.setdefault(int(d.get("level", 0)), []).append(n)
    for level in sorted(levels):
        lines.append(f"  {{ rank=same; {' '.join(f'{n};' for n in levels[level])} }}")
    for u, v, d in g.edges(data=True):
        lines.append(_edge_line(u, v, d))
    lines.append("}")
    return "\n".join(lines) + "\n"
