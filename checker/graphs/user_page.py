"""A user ring buffer trace as a self-contained HTML page (``ringcheck trace --format html``).

The kernel ring's page draws its ring from ``State``; the user ring's state is
another shape (``model.userring``), so it has its own page: one section per
step with the action, the kernel or libbpf function it stands for and its
paragraph of docs/protocol.md, what it changed, and the whole state as a
table (positions, busy word, every data word, the application, each drain,
the ghost log). What a drain call returns is on its ``drain.end`` step. The
arrow keys (or ``#step=N``) move between steps. The graph formats work as for
the kernel ring (``checker.graphs.user_attrs``); svg and itf, which draw the
kernel ring's picture and variables, are refused with one line.
"""

from __future__ import annotations

from html import escape

from checker.graphs.attrs import protocol_ref
from checker.trace import Trace, TraceError
from model.codec import state_view
from model.steps import STEPS
from model.userring.drain import drain_return
from model.userring.state import D_END

ERRNO_NAMES = {-22: "EINVAL", -7: "E2BIG", -16: "EBUSY"}

_STYLE = """body{font-family:monospace;margin:1.5em;max-width:70em}
section{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:.8em 0}
section.current{border-color:#1f77b4;box-shadow:0 0 0 2px #1f77b4}
table{border-collapse:collapse}td,th{padding:1px 8px;text-align:left;vertical-align:top}
.changed td{background:#fff3c4}.refused{color:#c00000;font-weight:bold}.violated{color:#d62728;font-weight:bold}
.fn{color:#555}"""

_SCRIPT = """const steps=[...document.querySelectorAll('section.step')];let at=0;
function show(i){at=Math.max(0,Math.min(steps.length-1,i));steps.forEach((s,j)=>s.classList.toggle('current',j==at));
steps[at].scrollIntoView({block:'nearest'});history.replaceState(null,'','#step='+at);}
document.addEventListener('keydown',e=>{if(e.key=='ArrowRight'||e.key=='ArrowDown'){show(at+1);e.preventDefault();}
if(e.key=='ArrowLeft'||e.key=='ArrowUp'){show(at-1);e.preventDefault();}});
const m=location.hash.match(/step=(\\d+)/);show(m?parseInt(m[1]):0);"""


def returned(trace: Trace, i: int) -> str | None:
    """What the drain call ending at step ``i`` (1-based) returned, as ``-7 (E2BIG)``; None otherwise."""
    st = trace.steps[i - 1]
    if st.action.step != "drain.end":
        return None
    d = int(st.action.actor[1:])
    dr = trace.states[i - 1].drains[d]
    if dr.pc != D_END:
        return None
    ret = drain_return(dr)
    return f"{ret} ({ERRNO_NAMES[ret]})" if ret in ERRNO_NAMES else str(ret)


def _state_table(trace: Trace, i: int, changed: set[str]) -> str:
    rows = "".join(f'<tr{" class=changed" if k in changed else ""}><th>{escape(k)}</th><td>{escape(v)}</td></tr>'
                   for k, v in state_view(trace.states[i]).items())
    return f"<table class=state>{rows}</table>"


def _step_section(trace: Trace, i: int) -> str:
    st = trace.steps[i - 1]
    info = STEPS.get(st.action.step)
    head = f"<h3>step {i}: {escape(str(st.action))}</h3>"
    if info is not None:
        ref = protocol_ref(info.protocol)
        head += (f'<p class=fn>{escape(info.function)} &mdash; <a href="../../{ref}">{escape(ref)}</a>'
                 f"<br>{escape(info.doc)}</p>")
    ret = returned(trace, i)
    if ret is not None:
        refused = ret.startswith("-")
        head += f'<p class="{"refused" if refused else "ret"}">bpf_user_ringbuf_drain returned {escape(ret)}' \
                + (": the kernel refused the sample" if refused else "") + "</p>"
    changes = trace.changes(i)
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(a)}</td><td>&rarr;</td><td>{escape(b)}</td></tr>"
                   for k, a, b in changes)
    return (f'<section class=step id="step-{i}">{head}<table class=changes>{rows}</table>'
            f"<details><summary>state after step {i}</summary>"
            f"{_state_table(trace, i, {k for k, _, _ in changes})}</details></section>")


def user_trace_html(trace: Trace) -> str:
    """The user ring trace as one self-contained page (no network needed)."""
    title = f"ringcheck trace: {trace.config.describe()}"
    verdict = (f'<p class=violated>violated: {escape(trace.property)}: {escape(str(trace.reason))}</p>'
               if trace.property else "")
    refusals = [r for i in range(1, len(trace) + 1) if (r := returned(trace, i)) and r.startswith("-")]
    summary = (f"<p>{len(trace)} steps; the drain refused with {escape(', '.join(refusals))}.</p>" if refusals
               else f"<p>{len(trace)} steps.</p>")
    sections = [f'<section class=step id="step-0"><h3>initial state</h3>'
                f"{_state_table(trace, 0, set())}</section>"]
    sections += [_step_section(trace, i) for i in range(1, len(trace) + 1)]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>User ring buffer trace</h1>\n<p>config: <code>{escape(trace.config.describe())}</code></p>\n"
            f"{verdict}{summary}<p>Arrow keys move between steps; <code>#step=N</code> opens step N.</p>\n"
            + "\n".join(sections) + f"\n<script>{_SCRIPT}</script>\n</body>\n</html>\n")


def render_user(trace: Trace, fmt: str) -> str:
    """A user ring trace in format ``fmt``: html, or a graph format (TraceError, one line, for svg and itf)."""
    if fmt == "html":
        return user_trace_html(trace)
    if fmt in ("graphml", "dot", "json"):
        from checker.graphs.export import render_graph
        from checker.graphs.graph import trace_graph
        return render_graph(trace_graph(trace), fmt)
    raise TraceError(f"trace: --format {fmt} draws the kernel ring's picture or its ITF variables; a user ring "
                     "trace renders as html, graphml, dot or json (and as text and JSON with check --trace-out)")
