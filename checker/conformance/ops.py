"""Operations at API granularity: the alphabet every conformance check speaks.

One `Op` is one call an implementation under test receives: a reservation,
the payload write of a fresh reservation, a commit (submit or discard), one
libbpf consume pass, or hostile user space storing `consumer_pos`. The
lockstep walker, the hypothesis strategies, the stateful machine and the
JSON-lines logs all describe runs as lists of `Op`, so a divergence found by
one of them can be replayed by any other.

Records are named by the model's record id (`producer * E + attempt`); the
payload a check writes into a record is `payload_bytes(rec, size)`, a byte
pattern that names its record, so delivered samples can be mapped back to
record ids whatever language the implementation is written in.
"""

from __future__ import annotations

from typing import NamedTuple

RESERVE, WRITE, COMMIT, CONSUME, SET_CONSUMER_POS = (
    "reserve", "write", "commit", "consume", "set_consumer_pos")
KINDS = (RESERVE, WRITE, COMMIT, CONSUME, SET_CONSUMER_POS)
OBSERVE = "observe"
"""Not an operation: the kind of a log's observation lines, named in a divergence found there."""
REOPEN = "reopen"
"""The consumer closed and opened again; only concurrent scenarios use it so far (not in `KINDS`)."""
SET_PRODUCER_POS, WRITE_HEADER, WRITE_PAYLOAD = "set_producer_pos", "write_header", "write_payload"
ATTACKER_KINDS = (SET_PRODUCER_POS, WRITE_HEADER, WRITE_PAYLOAD)
"""Hostile user space writing what the kernel maps read-only (``--attacker``, docs/attacker.md): producer_pos,
a header, a data word. Adapter capabilities, not in `KINDS`: `adapter.CAPABILITIES` names their methods."""
ATTACKER_PG_OFF = 0xFFFFFFFF
"""The pg_off of a header the attacker writes: not the kernel's (the model's owner tag says the same)."""
ATTACKER_WORD = bytes(4) + b"\xa5" * 4
"""The 8 bytes of a data word the attacker writes: its first four bytes read as len 0, as the model says."""


class Op(NamedTuple):
    """One API call; only the fields its kind uses are meaningful (the rest keep their defaults)."""

    kind: str
    producer: int = 0
    size: int = 0
    rec: int = -1
    """The model's record id: the one a reserve creates, or the one written/committed."""
    discard: bool = False
    flags: int = 0
    value: int = 0
    """The consumer_pos stored by set_consumer_pos, the producer_pos of set_producer_pos, the len of write_header."""
    offset: int = 0
    """write_header, write_payload: the byte offset in the data area (a multiple of 8)."""

    def __str__(self) -> str:
        if self.kind == RESERVE:
            return f"reserve(p{self.producer}, size={self.size})"
        if self.kind == WRITE:
            return f"write(p{self.producer}, r{self.rec})"
        if self.kind == COMMIT:
            name = "discard" if self.discard else "submit"
            extra = f", flags={self.flags}" if self.flags else ""
            return f"{name}(p{self.producer}, r{self.rec}{extra})"
        if self.kind == CONSUME:
            return "consume()"
        if self.kind == OBSERVE:
            return "observe()"
        if self.kind == REOPEN:
            return "reopen()"
        if self.kind == SET_PRODUCER_POS:
            return f"set_producer_pos({self.value})"
        if self.kind == WRITE_HEADER:
            return f"write_header(offset={self.offset}, len={self.value:#x})"
        if self.kind == WRITE_PAYLOAD:
            return f"write_payload(offset={self.offset})"
        return f"set_consumer_pos({self.value})"

    def to_dict(self) -> dict:
        """The fields this kind uses, JSON-ready."""
        d: dict = {"op": self.kind}
        if self.kind in (RESERVE, WRITE, COMMIT):
            d["producer"] = self.producer
        if self.kind == RESERVE:
            d["size"] = self.size
            if self.flags:
                d["flags"] = self.flags
        if self.kind in (WRITE, COMMIT):
            d["rec"] = self.rec
        if self.kind == RESERVE:
            d["rec"] = self.rec
        if self.kind == COMMIT:
            d["discard"] = self.discard
            d["flags"] = self.flags
        if self.kind in (SET_CONSUMER_POS, SET_PRODUCER_POS, WRITE_HEADER):
            d["value"] = self.value
        if self.kind in (WRITE_HEADER, WRITE_PAYLOAD):
            d["offset"] = self.offset
        return d


def reserve(producer: int, size: int, rec: int) -> Op:
    """bpf_ringbuf_reserve by `producer`; `rec` is the record id the attempt uses."""
    return Op(RESERVE, producer, size, rec)


def write(producer: int, rec: int) -> Op:
    """The program writes `payload_bytes(rec, size)` into its fresh reservation."""
    return Op(WRITE, producer, rec=rec)


def commit(producer: int, rec: int, discard: bool = False, flags: int = 0) -> Op:
    """bpf_ringbuf_submit (or, with `discard`, bpf_ringbuf_discard)."""
    return Op(COMMIT, producer, rec=rec, discard=discard, flags=flags)


def consume() -> Op:
    """One ring_buffer__consume pass of the libbpf consumer."""
    return Op(CONSUME)


def set_consumer_pos(value: int) -> Op:
    """Hostile user space stores `value` into consumer_pos."""
    return Op(SET_CONSUMER_POS, value=value)


def set_producer_pos(value: int) -> Op:
    """Hostile user space stores `value` into producer_pos (were the producer page writable)."""
    return Op(SET_PRODUCER_POS, value=value)


def write_header(offset: int, len_word: int) -> Op:
    """Hostile user space writes a header {len_word, ATTACKER_PG_OFF} at data offset `offset`."""
    return Op(WRITE_HEADER, value=len_word, offset=offset)


def write_payload(offset: int) -> Op:
    """Hostile user space writes the data word ATTACKER_WORD at data offset `offset`."""
    return Op(WRITE_PAYLOAD, offset=offset)


def payload_bytes(rec: int, size: int) -> bytes:
    """The payload a check writes into record `rec`.

    Every 8-byte word of the payload starts with four zero bytes and ends
    with four bytes that name the record (the first is `rec + 1`). The
    zeros make the model's abstraction of payload bytes exact: the model
    says that a payload word read as a header (after a corruption: a v5.8
    record longer than the ring, or a reservation over a busy header) reads
    as len 0, and with this pattern the implementation's bytes do too. The
    other four bytes let a delivered sample be mapped back to its record:
    payloads of distinct records differ once they are 5 bytes or longer.
    """
    return bytes(0 if i % 8 < 4 else (rec + 1 + 64 * (i // 8) + 16 * (i % 8 - 4)) & 0xFF
                 for i in range(size))
