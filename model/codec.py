"""States to plain data and back, losslessly, for traces on disk and for viewers.

The plain form names everything (program points by step name, statuses by
word) so that a JSON trace is readable without this code; ``state_from_dict``
inverts ``state_to_dict`` exactly, which the trace tests check.
"""

from __future__ import annotations

from model.constants import BUSY_BIT, DISCARD_BIT, LEN_MASK
from model.state import (CONSUMER_PC_NAMES, KIND_HEADER, KIND_PAYLOAD, P_OVER_CLAIM, P_OVER_SCAN, PRODUCER_PC_NAMES,
                         SLOT_EMPTY, STATUS_NAMES, Consumer, Producer, Record, State,
                         header_word, payload_word, read_len, slot_kind, slot_owner)

_KIND_NAMES = {SLOT_EMPTY: "empty", KIND_HEADER: "header", KIND_PAYLOAD: "payload"}


def len_word_str(len_word: int) -> str:
    """A header len word as ``16|BUSY``."""
    bits = [str(len_word & LEN_MASK)]
    if len_word & BUSY_BIT:
        bits.append("BUSY")
    if len_word & DISCARD_BIT:
        bits.append("DISCARD")
    return "|".join(bits)


def slot_to_dict(word: int) -> dict:
    """One 8-byte word: what kind of bytes, written by which record, and the len it holds."""
    kind = slot_kind(word)
    d: dict = {"kind": _KIND_NAMES[kind]}
    if kind != SLOT_EMPTY:
        d["owner"] = slot_owner(word)
    if kind == KIND_HEADER:
        d["len"] = read_len(word)
    return d


def slot_from_dict(d: dict) -> int:
    """Inverse of slot_to_dict."""
    if d["kind"] == "empty":
        return SLOT_EMPTY
    if d["kind"] == "header":
        return header_word(d["owner"], d["len"])
    if d["kind"] == "payload":
        return payload_word(d["owner"])
    raise ValueError(f"slot kind {d['kind']!r} is not empty, header or payload")


def slot_str(word: int) -> str:
    """A word for people: ``-``, ``hdr r0 16|BUSY`` or ``data r0``."""
    kind = slot_kind(word)
    if kind == KIND_HEADER:
        return f"hdr r{slot_owner(word)} {len_word_str(read_len(word))}"
    if kind == KIND_PAYLOAD:
        return f"data r{slot_owner(word)}"
    return "-"


def record_str(r: Record) -> str:
    """A record for people: ``busy @0 size=16``."""
    name = STATUS_NAMES[r.status]
    if r.status in (0, 1):
        return name if r.status == 0 else f"failed size={r.size}"
    return f"{name} @{r.pos} size={r.size}"


def producer_str(pr: Producer) -> str:
    """A producer's program point and the locals that matter there."""
    parts = [PRODUCER_PC_NAMES[pr.pc], f"attempts={pr.attempts}"]
    if pr.cur >= 0:
        parts.append(f"rec=r{pr.cur}")
    if pr.pc in (2, 3, 4, P_OVER_SCAN, P_OVER_CLAIM):
        parts.append(f"size={pr.size}")
        if pr.nmi:
            parts.append("nmi")
        parts.append(f"cons={pr.cons}")
    if pr.pc in (3, 4, P_OVER_SCAN, P_OVER_CLAIM):
        parts.append(f"prod={pr.prod} pend={pr.pend}")
    if pr.held:
        parts.append("held=" + ",".join(f"r{h}" for h in pr.held))
    if pr.flags:
        parts.append(f"flags={pr.flags}")
    if pr.pc in (P_OVER_SCAN, P_OVER_CLAIM):
        parts.append(f"over={pr.over}")
    return " ".join(parts)


def consumer_str(c: Consumer) -> str:
    """The consumer's program point and locals."""
    if c.pc == 7:
        return "none (adversarial user space)"
    line = f"{CONSUMER_PC_NAMES[c.pc]} cons={c.cons} prod={c.prod}" + (" got_new" if c.got_new else "")
    if c.copy_rec != -1:
        line += " copy=" + ("none" if c.copy_rec == -2 else f"r{c.copy_rec}" + ("" if c.copy_ok else "(bad)"))
    return line


def _later(nt: tuple, names: tuple[str, ...]) -> dict:
    """Fields added after traces were first kept (overwrite mode), written only when not at their default."""
    return {n: getattr(nt, n) for n in names if getattr(nt, n) != type(nt)._field_defaults[n]}


_LATER_PRODUCER = ("over",)
_LATER_CONSUMER = ("copy_rec", "copy_ok")


def state_to_dict(s: State) -> dict:
    """Lossless plain form of a state (a user ring state: ``model.userring.codec``)."""
    if not isinstance(s, State):
        from model.userring.codec import user_state_to_dict
        return user_state_to_dict(s)
    return _later(s, ("overwrite_pos",)) | {
        "consumer_pos": s.consumer_pos,
        "producer_pos": s.producer_pos,
        "pending_pos": s.pending_pos,
        "lock": s.lock,
        "slots": [slot_to_dict(w) for w in s.slots],
        "records": [{"status": STATUS_NAMES[r.status], "pos": r.pos, "size": r.size, "seq": r.seq}
                    for r in s.records],
        "producers": [{"pc": PRODUCER_PC_NAMES[p.pc], "attempts": p.attempts, "cur": p.cur,
                       "size": p.size, "nmi": p.nmi, "cons": p.cons, "prod": p.prod,
                       "pend": p.pend, "held": list(p.held), "flags": p.flags} | _later(p, _LATER_PRODUCER)
                      for p in s.producers],
        "consumer": {"pc": CONSUMER_PC_NAMES[s.consumer.pc], "cons": s.consumer.cons,
                     "prod": s.consumer.prod, "got_new": s.consumer.got_new, "len": s.consumer.len}
        | _later(s.consumer, _LATER_CONSUMER),
        "irq_pending": s.irq_pending,
        "edge_ready": s.edge_ready,
        "delivered": [[rec, ok] for rec, ok in s.delivered],
    }


def state_from_dict(d: dict) -> State:
    """Inverse of state_to_dict; raises KeyError/ValueError on malformed input."""
    if "drains" in d:
        from model.userring.codec import user_state_from_dict
        return user_state_from_dict(d)
    c = d["consumer"]
    return State(
        consumer_pos=int(d["consumer_pos"]),
        producer_pos=int(d["producer_pos"]),
        pending_pos=int(d["pending_pos"]),
        lock=int(d["lock"]),
        slots=tuple(slot_from_dict(w) for w in d["slots"]),
        records=tuple(Record(STATUS_NAMES.index(r["status"]), int(r["pos"]), int(r["size"]),
                             int(r["seq"])) for r in d["records"]),
        producers=tuple(Producer(PRODUCER_PC_NAMES.index(p["pc"]), int(p["attempts"]), int(p["cur"]),
                                 int(p["size"]), bool(p["nmi"]), int(p["cons"]), int(p["prod"]),
                                 int(p["pend"]), tuple(int(h) for h in p["held"]), int(p["flags"]),
                                 int(p.get("over", 0)))
                        for p in d["producers"]),
        consumer=Consumer(CONSUMER_PC_NAMES.index(c["pc"]), int(c["cons"]), int(c["prod"]),
                          bool(c["got_new"]), int(c["len"]),
                          int(c.get("copy_rec", -1)), bool(c.get("copy_ok", False))),
        irq_pending=bool(d["irq_pending"]),
        edge_ready=bool(d["edge_ready"]),
        delivered=tuple((int(r), bool(ok)) for r, ok in d["delivered"]),
        overwrite_pos=int(d.get("overwrite_pos", 0)),
    )


def state_view(s: State) -> dict[str, str]:
    """Flat, readable view of a state, one entry per variable, for diffs between steps."""
    if not isinstance(s, State):
        from model.userring.codec import user_state_view
        return user_state_view(s)
    v: dict[str, str] = {
        "consumer_pos": str(s.consumer_pos),
        "producer_pos": str(s.producer_pos),
        "pending_pos": str(s.pending_pos),
        "lock": "free" if s.lock < 0 else f"p{s.lock}",
    }
    if s.overwrite_pos:
        v["overwrite_pos"] = str(s.overwrite_pos)
    for i, w in enumerate(s.slots):
        v[f"mem[{8 * i}]"] = slot_str(w)
    for i, r in enumerate(s.records):
        v[f"r{i}"] = record_str(r)
    for i, p in enumerate(s.producers):
        v[f"p{i}"] = producer_str(p)
    v["consumer"] = consumer_str(s.consumer)
    v["irq_pending"] = str(s.irq_pending)
    v["edge_ready"] = str(s.edge_ready)
    v["delivered"] = ", ".join(f"r{r}" + ("" if ok else "(bad)") if r >= 0 else "garbage"
                               for r, ok in s.delivered) or "none"
    return v
