"""User ring states to plain data and back, losslessly, and as flat views for trace diffs.

The same shapes as ``model.codec`` for the kernel ring (program points by
step name, statuses and slot kinds by word); a user ring state's plain form
is told apart by its ``drains`` key. A data word written by hostile user
space shows as ``user`` (owner tag ``HOSTILE``).
"""

from __future__ import annotations

from model.codec import len_word_str, record_str, slot_from_dict, slot_to_dict
from model.state import KIND_HEADER, KIND_PAYLOAD, STATUS_NAMES, Record, read_len, slot_kind, slot_owner
from model.userring.drain import drain_return
from model.userring.state import (DRAIN_PC_NAMES, D_IDLE, HOSTILE, USER_PC_NAMES, Advance, Drain, UserProducer,
                                  UserState)

_DRAIN_FIELDS = ("flags", "prod", "cons", "len", "samples", "discarded", "stop", "err")


def is_user_state_dict(d: dict) -> bool:
    """True for the plain form of a ``UserState``."""
    return isinstance(d, dict) and "drains" in d


def user_slot_str(word: int) -> str:
    """A data word for people: ``-``, ``hdr r0 16|BUSY``, ``data r0``, ``hdr user 24|DISCARD``."""
    kind = slot_kind(word)
    who = "user" if slot_owner(word) == HOSTILE else f"r{slot_owner(word)}"
    if kind == KIND_HEADER:
        return f"hdr {who} {len_word_str(read_len(word))}"
    if kind == KIND_PAYLOAD:
        return f"data {who}"
    return "-"


def producer_str(pr: UserProducer) -> str:
    """The user producer's program point and the locals that matter there."""
    parts = [USER_PC_NAMES[pr.pc], f"attempts={pr.attempts}"]
    if pr.cur >= 0:
        parts.append(f"rec=r{pr.cur} size={pr.size}")
    if pr.pc == 1:
        parts.append(f"cons={pr.cons}")
    if pr.held:
        parts.append("held=" + ",".join(f"r{h}" for h in pr.held))
    if pr.writes:
        parts.append(f"writes={pr.writes}")
    return " ".join(parts)


def drain_str(dr: Drain) -> str:
    """A drain's program point and its locals."""
    if dr.pc == D_IDLE:
        return "idle"
    parts = [DRAIN_PC_NAMES[dr.pc], f"prod={dr.prod} cons={dr.cons} len={len_word_str(dr.len)}",
             f"samples={dr.samples}"]
    if dr.discarded:
        parts.append(f"discarded={dr.discarded}")
    if dr.flags:
        parts.append(f"flags={dr.flags}")
    if dr.stop:
        parts.append("stop")
    if dr.err:
        parts.append(f"ret={drain_return(dr)}")
    return " ".join(parts)


def user_state_to_dict(s: UserState) -> dict:
    """Lossless plain form of a user ring state."""
    a = s.last_advance
    return {
        "consumer_pos": s.consumer_pos,
        "producer_pos": s.producer_pos,
        "busy": s.busy,
        "slots": [slot_to_dict(w) for w in s.slots],
        "records": [{"status": STATUS_NAMES[r.status], "pos": r.pos, "size": r.size, "seq": r.seq}
                    for r in s.records],
        "producer": {"pc": USER_PC_NAMES[s.producer.pc], "attempts": s.producer.attempts, "cur": s.producer.cur,
                     "size": s.producer.size, "cons": s.producer.cons, "held": list(s.producer.held),
                     "writes": s.producer.writes},
        "drains": [{"pc": DRAIN_PC_NAMES[d.pc], **{f: int(getattr(d, f)) for f in _DRAIN_FIELDS}}
                   for d in s.drains],
        "delivered": [[rec, ok] for rec, ok in s.delivered],
        "last_advance": None if a is None else dict(a._asdict()),
    }


def user_state_from_dict(d: dict) -> UserState:
    """Inverse of user_state_to_dict; raises KeyError/ValueError on malformed input."""
    p = d["producer"]
    a = d["last_advance"]
    return UserState(
        consumer_pos=int(d["consumer_pos"]),
        producer_pos=int(d["producer_pos"]),
        busy=int(d["busy"]),
        slots=tuple(slot_from_dict(w) for w in d["slots"]),
        producer=UserProducer(USER_PC_NAMES.index(p["pc"]), int(p["attempts"]), int(p["cur"]), int(p["size"]),
                              int(p["cons"]), tuple(int(h) for h in p["held"]), int(p["writes"])),
        drains=tuple(Drain(DRAIN_PC_NAMES.index(x["pc"]), *(int(x[f]) for f in _DRAIN_FIELDS[:-2]),
                           bool(x["stop"]), int(x["err"])) for x in d["drains"]),
        records=tuple(Record(STATUS_NAMES.index(r["status"]), int(r["pos"]), int(r["size"]), int(r["seq"]))
                      for r in d["records"]),
        delivered=tuple((int(r), bool(ok)) for r, ok in d["delivered"]),
        last_advance=None if a is None else Advance(*(int(a[f]) for f in Advance._fields)),
    )


def user_state_view(s: UserState) -> dict[str, str]:
    """Flat, readable view of a user ring state, one entry per variable, for diffs between steps."""
    v: dict[str, str] = {
        "consumer_pos": str(s.consumer_pos),
        "producer_pos": str(s.producer_pos),
        "busy": str(s.busy),
    }
    for i, w in enumerate(s.slots):
        v[f"mem[{8 * i}]"] = user_slot_str(w)
    for i, r in enumerate(s.records):
        v[f"r{i}"] = record_str(r)
    v["app"] = producer_str(s.producer)
    for i, dr in enumerate(s.drains):
        v[f"d{i}"] = drain_str(dr)
    v["delivered"] = ", ".join(f"r{r}" + ("" if ok else "(bad)") if r >= 0 else "garbage"
                               for r, ok in s.delivered) or "none"
    a = s.last_advance
    v["last_advance"] = "none" if a is None else f"{a.old}->{a.new} (len {len_word_str(a.len)}, prod {a.prod})"
    return v
