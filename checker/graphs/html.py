"""A trace as one self-contained HTML page to step through (for teaching).

The page has one frame per state of the trace (frame 0 is the initial
state, frame i the state after step i). Each frame shows the ring diagram of
``svg.ring_svg`` and a side panel: the step taken (actor, step, the kernel or
libbpf function it stands for, where docs/protocol.md explains it), what it changed
(variable, before, after), for a ``reserve.claim`` the space check with the
step's own numbers, the actors' program points, every property the state
violates (evaluated on every frame, so a replayed scenario that ends in a
violation shows it where it happens), and the whole state on request. The left and right arrow
keys (Home and End too) or the buttons move between frames; the list of steps
under the frames jumps to any step, and ``#step=N`` in the address opens the page at step N.

Under a weak memory model (``--memory tso`` or ``ra``) the page also names
the model, its bound and the overrides, and each frame has a memory section
(``checker.trace_memory``): the step's flush (class ``flush``) or its reads,
each stale one in class ``read stale``; a panel per actor (``div.actor``)
with its store buffer and, per location, the value it would read now (cells
where that differs from memory in class ``differs``); and the shared memory
or the RA messages. Steps with a stale read or a flush carry ``data-mark`` in
the list of steps. An sc page is byte for byte what it always was.

Everything is inline: no stylesheet, script, font or image is fetched, and
the page contains no URL at all, so it works offline and from a mail
attachment. ``trace_fragment`` is the same content without the page around it,
for Jupyter (``Trace._repr_html_``), where its keys work once it has focus.

A lasso (liveness counterexample) is marked where its cycle starts: a banner
on that frame, on the last one (which is the same state again) and in the
list of steps; stepping past the last frame goes around the cycle (to the
frame after the loop state; a stuttering lasso stays on its last frame).
"""

from __future__ import annotations

import re
from html import escape

from checker.graphs.attrs import protocol_ref
from checker.graphs.svg import record_state, ring_svg
from checker.trace import Trace
from checker.trace_memory import MemoryFrame, distinct, memory_summary
from model.codec import state_view
from model.constants import distance, record_length, u64
from model.state import BUSY
from model.steps import STEPS
from specs import all_properties

STYLE = """
.rc-trace { font-family: sans-serif; font-size: 14px; color: #222; outline: none; }
.rc-trace h1 { font-size: 18px; margin: 4px 0; }
.rc-trace .config { font-family: monospace; color: #444; }
.rc-trace .verdict { color: #b00020; font-weight: bold; }
.rc-trace nav { margin: 8px 0; display: flex; gap: 6px; align-items: center; }
.rc-trace nav button { font-size: 14px; padding: 3px 10px; }
.rc-trace .counter { font-family: monospace; margin-left: 8px; }
.rc-trace .frame { display: flex; gap: 16px; align-items: flex-start; }
.rc-trace .frame[hidden] { display: none; }
.rc-trace .diagram { flex: 1 1 560px; min-width: 0; max-width: 780px; }
.rc-trace .diagram svg { display: block; width: 100%; height: auto; }
.rc-trace .panel { flex: 0 1 340px; min-width: 260px; max-width: 600px; }
@media (max-width: 720px) { .rc-trace .frame { flex-wrap: wrap; } }
.rc-trace code, .rc-trace .cite, .rc-trace .space { font-family: monospace; }
.rc-trace .space { background: #f4f4f4; padding: 4px 6px; font-size: 12px; }
.rc-trace .space .refused { color: #b00020; font-weight: bold; }
.rc-trace .space .fits { color: #0a5d00; font-weight: bold; }
.rc-trace .panel h2 { font-size: 16px; margin: 4px 0; font-family: monospace; }
.rc-trace .fn { color: #555; font-size: 13px; }
.rc-trace table { border-collapse: collapse; font-family: monospace; font-size: 12px; }
.rc-trace td, .rc-trace th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
.rc-trace td.before { color: #888; text-decoration: line-through; }
.rc-trace td.after { color: #0a5d00; font-weight: bold; }
.rc-trace .violated { border: 2px solid #b00020; color: #b00020; padding: 6px; margin: 8px 0; }
.rc-trace ol.steps { font-family: monospace; font-size: 12px; }
.rc-trace ol.steps li { cursor: pointer; }
.rc-trace ol.steps li.current { background: #ffe680; }
"""

WEAK_STYLE = """
.rc-trace .memory-model { font-family: monospace; color: #444; }
.rc-trace .actors { display: flex; gap: 10px; flex-wrap: wrap; margin: 6px 0; }
.rc-trace .actor { border: 1px solid #aab; border-radius: 4px; padding: 4px 8px; background: #f7f8ff; }
.rc-trace .actor h4 { margin: 2px 0; font-family: monospace; font-size: 13px; }
.rc-trace .actor ol.buffer { margin: 2px 0 4px 0; padding-left: 20px; font-family: monospace; font-size: 12px; }
.rc-trace td.differs { background: #fff0c0; font-weight: bold; }
.rc-trace .flush { border-left: 4px solid #1f6fd0; padding: 2px 6px; margin: 6px 0; color: #1f4f90;
  font-family: monospace; }
.rc-trace .reads { font-family: monospace; font-size: 12px; }
.rc-trace .read.stale { background: #ffd6d6; color: #b00020; font-weight: bold; padding: 0 3px; }
.rc-trace ol.steps li[data-mark~="stale"]::after { content: "  stale read"; color: #b00020; }
.rc-trace ol.steps li[data-mark~="flush"]::after { content: "  flush"; color: #1f6fd0; }
"""
"""Extra rules for tso/ra pages only, so that an sc page is byte for byte what it was."""

SCRIPT = """
(function () {
  var root = document.getElementById(%(uid)r);
  var frames = root.querySelectorAll('.frame');
  var items = root.querySelectorAll('ol.steps li');
  var counter = root.querySelector('.counter');
  var cur = 0;
  function show(i, remember) {%(wrap)s
    cur = Math.max(0, Math.min(frames.length - 1, i));
    if (remember && %(page)s && history.replaceState) { history.replaceState(null, '', '#step=' + cur); }
    for (var k = 0; k < frames.length; k++) { frames[k].hidden = (k !== cur); }
    for (var k = 0; k < items.length; k++) { items[k].className = (k === cur) ? 'current' : ''; }
    counter.textContent = 'step ' + cur + ' / ' + (frames.length - 1);
    root.setAttribute('data-step', cur);
  }
  function onKey(e) {
    var moves = {ArrowRight: cur + 1, ArrowDown: cur + 1, ArrowLeft: cur - 1, ArrowUp: cur - 1,
                 Home: 0, End: frames.length - 1};
    if (e.key in moves) { show(moves[e.key], true); e.preventDefault(); }
  }
  function fromAddress() {
    var m = /^#(?:.*&)?step=([0-9]+)/.exec(location.hash);
    return m ? parseInt(m[1], 10) : 0;
  }
  root.querySelector('.first').onclick = function () { show(0, true); };
  root.querySelector('.prev').onclick = function () { show(cur - 1, true); };
  root.querySelector('.next').onclick = function () { show(cur + 1, true); };
  root.querySelector('.last').onclick = function () { show(frames.length - 1, true); };
  for (var k = 0; k < items.length; k++) {
    (function (k) { items[k].onclick = function () { show(k, true); }; })(k);
  }
  (%(page)s ? document : root).addEventListener('keydown', onKey);
  if (%(page)s) { window.addEventListener('hashchange', function () { show(fromAddress()); }); }
  show(%(page)s ? fromAddress() : 0);
})();
"""


def doc_html(text: str) -> str:
    """A docstring line as HTML: escaped, with reStructuredText ``literals`` shown as code."""
    return re.sub(r"``(.+?)``", r"<code>\1</code>", escape(text))


def frame_violations(trace: Trace) -> list[list[tuple[str, str]]]:
    """Per state of the trace, (property, reason) of every property it violates (terminal ones where it is
    terminal): a trace replayed from a scenario carries no verdict, so the page judges each state itself."""
    model = trace.model()
    out = []
    for s in trace.states:
        terminal = model.is_terminal(s)
        out.append([(p.name, r) for p in all_properties(trace.config) if (r := p.check(trace.config, s, terminal)) is not None])
    if trace.property and trace.property not in {name for name, _ in out[-1]}:
        out[-1].insert(0, (trace.property, trace.reason or ""))
    return out


def _difference(a: int, b: int) -> str:
    """``a - b = d`` as the kernel computes it (modulo 2**64, said when it wraps)."""
    return f"{a} - {b} = {distance(a, b)}" + (" (mod 2^64)" if a < b else "")


def claim_arithmetic(trace: Trace, i: int) -> list[tuple[str, bool]]:
    """The space check of the ``reserve.claim`` taken at step ``i``: (line, fits) per comparison.

    The numbers are the producer's locals before the step: ``prod`` and ``pend``
    read under the lock, ``cons`` read before it, and the record's size.
    """
    config, before = trace.config, trace.states[i - 1]
    pr = before.producers[int(trace.steps[i - 1].action.actor[1:])]
    new_prod = u64(pr.prod + record_length(pr.size))
    checks = [("cons", pr.cons)] + ([("pend", pr.pend)] if config.has_pending else [])
    lines = [(f"new_prod = prod + reclen({pr.size}) = {pr.prod} + {record_length(pr.size)} = {new_prod}", True)]
    for name, value in checks:
        fits = distance(new_prod, value) <= config.mask
        lines.append((f"new_prod - {name} = {_difference(new_prod, value)} "
                      f"{'<=' if fits else '>'} {config.mask} (mask)", fits))
    return lines


def _claim_html(trace: Trace, i: int) -> str:
    lines = claim_arithmetic(trace, i)
    rid = trace.states[i - 1].producers[int(trace.steps[i - 1].action.actor[1:])].cur
    accepted = trace.states[i].records[rid].status == BUSY  # the model's outcome (the tests hold it to the lines)
    rows = "<br>".join(f"<span class=\"{'fits' if fits else 'refused'}\">{escape(text)}</span>" if k else
                       escape(text) for k, (text, fits) in enumerate(lines))
    verdict = ("fits: the kernel accepts the record" if accepted else
               "does not fit: the reservation is refused (reserve returns NULL)")
    return f"<h3>Space check</h3><p class=\"space\">{rows}<br>{escape(verdict)}</p>"


def _changes_table(trace: Trace, i: int) -> str:
    rows = "".join(f"<tr><td>{escape(k)}</td><td class=\"before\">{escape(a)}</td>"
                   f"<td class=\"after\">{escape(b)}</td></tr>" for k, a, b in trace.changes(i))
    if not rows:
        return "<p>Nothing visible changed.</p>"
    return f"<table class=\"changes\"><tr><th>variable</th><th>before</th><th>after</th></tr>{rows}</table>"


def _state_table(trace: Trace, i: int) -> str:
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
                   for k, v in state_view(trace.states[i]).items())
    return f"<details><summary>whole state</summary><table>{rows}</table></details>"


def _memory_section(trace: Trace, frame: MemoryFrame) -> str:
    """Tso/ra: the flush or the reads of the step (stale ones marked), then a panel per actor."""
    newest = ("a store counts once its actor has executed it, even while it waits in a buffer"
              if frame.messages is None else "the latest message of each location")
    out = [f"<h3>Memory ({escape(trace.config.memory)})</h3>",
           f"<p class=\"fn\">The ring shows each location's newest value ({newest}); the panels show what "
           "each actor would read now.</p>"]
    if frame.flush is not None:
        f = frame.flush
        out.append(f"<p class=\"flush\">FLUSH {escape(f.actor)}: {escape(f.location)}={escape(f.value)} "
                   f"leaves {escape(f.actor)}'s buffer for memory</p>")
    if frame.reads:
        reads = []
        for r in frame.reads:
            cls = "read stale" if r.stale else "read"
            text = f"{r.location}={r.value} ({r.order})"
            if r.stale:
                text += f" STALE: newest is {r.newest}"
            reads.append(f"<span class=\"{cls}\">{escape(text)}</span>")
        out.append(f"<p class=\"reads\">{escape(frame.reads[0].actor)} read: " + ", ".join(reads) + "</p>")
    memory = dict(frame.memory)
    out.append("<div class=\"actors\">")
    for a in frame.actors:
        out.append(f"<div class=\"actor\" data-actor=\"{escape(a.actor)}\"><h4>{escape(a.actor)}</h4>")
        if a.buffer is not None:
            entries = "".join(f"<li>{escape(l)}={escape(v)}</li>" for l, v in a.buffer)
            out.append("store buffer, oldest first: " +
                       (f"<ol class=\"buffer\">{entries}</ol>" if entries else "<i>empty</i>"))
        rows = []
        for loc, values in a.readable:
            values = distinct(values)
            shown = " or ".join(values)
            differs = values != (memory[loc],)
            cls = " class=\"differs\"" if differs else ""
            rows.append(f"<tr><td>{escape(loc)}</td><td{cls}>{escape(shown)}</td></tr>")
        out.append("<table class=\"would-read\"><tr><th>location</th><th>would read now</th></tr>"
                   + "".join(rows) + "</table></div>")
    out.append("</div>")
    label = "memory (buffers not included)" if frame.messages is None else "messages, oldest first"
    if frame.messages is None:
        cells = "".join(f"<tr><td>{escape(l)}</td><td>{escape(v)}</td></tr>" for l, v in frame.memory)
    else:
        cells = "".join(
            f"<tr><td>{escape(l)}</td><td>" + ", ".join(
                escape(f"{m.value}@{m.ts}" + (" {" + " ".join(f"{k}@{ts}" for k, ts in m.view) + "}"
                                               if m.view else "")) for m in msgs) + "</td></tr>"
            for l, msgs in frame.messages)
    out.append(f"<details><summary>{label}</summary><table class=\"shared\">{cells}</table></details>")
    return "\n".join(out)


LOOP_STYLE = """
.rc-trace .cycle { border: 2px dashed #6a1b9a; color: #6a1b9a; padding: 6px; margin: 8px 0; }
.rc-trace ol.steps li[data-cycle] { color: #6a1b9a; }
"""


def _cycle_banner(trace: Trace, i: int) -> str:
    """The cycle marker of frame ``i`` of a lasso ('' elsewhere)."""
    n, loop = len(trace), trace.loop
    if loop is None or i not in (loop, n):
        return ""
    if loop == n:
        text = ("&#x21BB; the cycle starts here: the run stays in this state forever "
                "(stuttering; no weakly fair actor is enabled)")
    elif i == loop:
        text = (f"&#x21BB; the cycle starts here: steps {loop + 1} to {n} repeat forever "
                f"(the last step returns to this state)")
    else:
        text = f"&#x21BB; back at the state of step {loop}, where the cycle starts: next goes around again"
    return f"<div class=\"cycle\" data-loop=\"{loop}\">{text}</div>"


def _panel(trace: Trace, i: int, violated: list[tuple[str, str]], frame: MemoryFrame | None = None) -> str:
    n = len(trace)
    s = trace.states[i]
    out = [_cycle_banner(trace, i)] if trace.loop is not None else []
    if i == 0:
        out.append("<h2>step 0: initial state</h2>")
        out.append("<p>Empty ring, every position at its start, every actor at its first step.</p>")
    else:
        action = trace.steps[i - 1].action
        info = STEPS.get(action.step)
        out.append(f"<h2>step {i} of {n}: {escape(str(action))}</h2>")
        if info:
            out.append(f"<p class=\"fn\">{escape(info.function)} "
                       f"(<span class=\"cite\">{escape(protocol_ref(info.protocol))}</span>)<br>{doc_html(info.doc)}</p>")
        if action.step == "reserve.claim":
            out.append(_claim_html(trace, i))
        out.append("<h3>What changed</h3>" + _changes_table(trace, i))
    view = state_view(s)
    actors = [f"p{p}: {escape(view[f'p{p}'])}" for p in range(len(s.producers))]
    if trace.config.honest:
        actors.append(f"consumer: {escape(view['consumer'])}")
    else:
        actors.append("consumer: untrusted user space (may store any consumer_pos)")
    out.append("<h3>Actors</h3><p class=\"fn\">" + "<br>".join(actors) + "</p>")
    records = ", ".join(f"r{rid} {record_state(trace.config, s, rid)}" for rid in range(len(s.records)))
    out.append(f"<p class=\"fn\">records: {escape(records)}</p>")
    if frame is not None:
        out.append(_memory_section(trace, frame))
    for name, reason in violated:
        out.append(f"<div class=\"violated\">VIOLATED {escape(name)}: {escape(reason)}</div>")
    out.append(_state_table(trace, i))
    return "\n".join(out)


def _marks(frames: list[MemoryFrame] | None, i: int) -> str:
    """The ``data-mark`` attribute of step ``i`` in the list of steps: stale read, flush (tso/ra)."""
    if frames is None:
        return ""
    marks = (["stale"] if frames[i].stale else []) + (["flush"] if frames[i].flush is not None else [])
    return f" data-mark=\"{' '.join(marks)}\"" if marks else ""


def trace_fragment(trace: Trace, uid: str = "ringcheck-trace", page: bool = False) -> str:
    """The step-through view as an HTML fragment (style, frames, navigation, script)."""
    n = len(trace)
    cfg = trace.config
    frames = trace.memory_frames()
    style = STYLE if frames is None else STYLE + WEAK_STYLE
    loop = trace.loop
    lasso = "" if loop is None else f" data-loop=\"{loop}\""
    parts = [f"<style>{style}</style>" + ("" if loop is None else f"<style>{LOOP_STYLE}</style>"),
             f"<div class=\"rc-trace\" id=\"{uid}\" tabindex=\"0\" data-step=\"0\" data-frames=\"{n + 1}\"{lasso}>",
             f"<h1>ring buffer trace, {n} steps" + ("" if loop is None else f" (a lasso: the cycle starts at step {loop})")
             + "</h1>",
             f"<div class=\"config\">{escape(cfg.describe())}</div>"]
    summary = memory_summary(cfg)
    if summary:
        parts.append(f"<div class=\"memory-model\">memory: {escape(summary)}</div>")
    found = frame_violations(trace)
    first = next(((i, *v[0]) for i, v in enumerate(found) if v), None)
    if trace.property:
        parts.append(f"<div class=\"verdict\">violated {escape(trace.property)}: {escape(trace.reason or '')}</div>")
    elif first:
        parts.append(f"<div class=\"verdict\">violated {escape(first[1])} at step {first[0]}: "
                     f"{escape(first[2])}</div>")
    parts.append("<nav><button class=\"first\">&#x00AB; first</button><button class=\"prev\">&#x25C0; prev</button>"
                 "<button class=\"next\">next &#x25B6;</button><button class=\"last\">last &#x00BB;</button>"
                 f"<span class=\"counter\">step 0 / {n}</span>"
                 "<span class=\"fn\">&nbsp; keys: &#x2190; &#x2192; Home End</span></nav>")
    for i, s in enumerate(trace.states):
        hidden = "" if i == 0 else " hidden"
        parts.append(f"<section class=\"frame\" data-step=\"{i}\"{hidden}>")
        parts.append(f"<div class=\"diagram\">{ring_svg(cfg, s, f'{uid}-{i}')}</div>")
        frame = None if frames is None else frames[i]
        parts.append(f"<aside class=\"panel\">{_panel(trace, i, found[i], frame)}</aside></section>")
    items = ["<li>initial state</li>"] + [f"<li{_marks(frames, i)}>{escape(str(st.action))}</li>"
                                          for i, st in enumerate(trace.steps, 1)]
    if loop is not None:
        items = [_cycle_item(item, k, loop, n) for k, item in enumerate(items)]
    parts.append(f"<h3>Steps</h3><ol class=\"steps\" start=\"0\">{''.join(items)}</ol>")
    parts.append("</div>")
    wrap = "" if loop is None else f"\n    if (i > frames.length - 1) {{ i = {min(loop + 1, n)}; }}"
    parts.append(f"<script>{SCRIPT % {'uid': uid, 'page': 'true' if page else 'false', 'wrap': wrap}}</script>")
    return "\n".join(parts) + "\n"


def _cycle_item(item: str, k: int, loop: int, n: int) -> str:
    """A list entry of a lasso's steps, marked when it is in the cycle or is its loop state."""
    if k == loop:
        item = item.replace("</li>", " &#x21BB; cycle starts here</li>")
    if loop < k <= n:
        item = item.replace("<li", "<li data-cycle=\"1\"", 1)
    return item


def trace_html(trace: Trace) -> str:
    """The trace as one self-contained HTML page."""
    title = f"ringcheck trace: {trace.config.describe()}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n</head>\n<body>\n"
            + trace_fragment(trace, page=True) + "</body>\n</html>\n")
