"""A consumer that reads an overwrite ring (BPF_F_RB_OVERWRITE) safely: ``--consumer overwrite-safe``.

libbpf has no consumer for overwrite mode. In that mode producers never wait
for consumer_pos: they move overwrite_pos past the oldest committed records
and write over them, possibly while a consumer is copying one. This consumer
is the one the kernel's reviewers asked for, built like a seqlock reader:

1. read consumer_pos (its own position), then producer_pos, then
   overwrite_pos (each acquire; the kernel publishes overwrite_pos before
   producer_pos), and start at ``max(consumer_pos, overwrite_pos)``;
2. read the header there; BUSY ends the pass; a length that would run past
   producer_pos cannot be a real header, so nothing is copied;
3. copy the payload into a private buffer (the callback runs on the copy);
4. re-read overwrite_pos: if it has moved past the record, a producer may
   have written over it during the copy (or before the header was read), so
   the copy is thrown away and reading resumes at the new overwrite_pos;
   otherwise the copy is delivered and the consumer moves past the record;
5. publish consumer_pos (release); when caught up, wait in epoll,
   level-triggered on the kernel's readiness test, ``producer_pos -
   max(consumer_pos, overwrite_pos) != 0``.

Why step 4 is enough (under sequential consistency, the only memory model
overwrite mode is checked under): a producer writes over the bytes of a
record only after its reservation stored an overwrite_pos past that record,
in the same step as its header; so if the re-read still sees overwrite_pos at
or before the record, no byte of it was written before the re-read, and the
copy made before it is intact. Under a weak memory model the copy's loads
would also need to be ordered before the re-read (smp_rmb, as a seqlock
reader has); the model does not check that.

Each function is one step; the consumer shares ``C_LOAD_CONS`` (start of a
pass), ``C_WAIT`` (epoll) and ``C_SLEEP`` with libbpf's, and the irq_work step of
``model.consumer``.
"""

from __future__ import annotations

from model.actions import Action
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, LEN_MASK, distance, is_ahead, record_length, u64
from model.consumer import CONSUMER_ACTOR, IRQ_ACTOR, irq_work, sample_identity
from model.shared import Direct
from model.state import (C_LOAD_CONS, C_SLEEP, C_WAIT, O_COPY, O_LOAD_OVER, O_LOAD_PROD, O_READ_HDR, O_RECHECK,
                         O_STORE, Consumer, State, evolve, read_len)
from model.steps import ACQUIRE, RELEASE, load, step, store

NO_COPY = -2
"""``Consumer.copy_rec`` when there is nothing to deliver (a discarded record, or a header
whose length cannot be real)."""


def behind(pos: int, ref: int) -> bool:
    """True when ``pos`` is strictly before ``ref`` on the 64-bit circle."""
    return not is_ahead(pos, ref)


def kernel_ready(prod: int, cons: int, over: int) -> bool:
    """ringbuf_avail_data_sz in overwrite mode, as epoll tests it: prod - max(cons, over) != 0."""
    return distance(prod, max(cons, over)) != 0


@step("ow.load_cons", "consumer", "overwrite-safe consumer (smp_load_acquire consumer_pos)",
      "overwrite consumer 1", (load("consumer_pos", ACQUIRE),))
def ow_load_cons(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Start a pass from the published consumer position."""
    m = Direct(s) if mem is None else mem
    return m.next(consumer=Consumer(pc=O_LOAD_PROD, cons=m.load("consumer_pos")))


@step("ow.load_prod", "consumer", "overwrite-safe consumer (smp_load_acquire producer_pos)",
      "overwrite consumer 1", (load("producer_pos", ACQUIRE),))
def ow_load_prod(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Snapshot producer_pos; overwrite_pos is read after it, so it is at least as new."""
    m = Direct(s) if mem is None else mem
    return m.next(consumer=evolve(s.consumer, pc=O_LOAD_OVER, prod=m.load("producer_pos")))


@step("ow.load_over", "consumer", "overwrite-safe consumer (smp_load_acquire overwrite_pos)",
      "overwrite consumer 1", (load("overwrite_pos", ACQUIRE),))
def ow_load_over(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Start at max(cons, overwrite_pos): everything before overwrite_pos is gone."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    over = m.load("overwrite_pos")
    cons = over if behind(c.cons, over) else c.cons
    if behind(cons, c.prod):
        return m.next(consumer=evolve(c, pc=O_READ_HDR, cons=cons))
    if cons != c.cons:
        return m.next(consumer=evolve(c, pc=O_STORE, cons=cons))
    return m.next(consumer=Consumer(pc=C_WAIT))


@step("ow.read_header", "consumer", "overwrite-safe consumer (smp_load_acquire header len)",
      "overwrite consumer 2", (load("header.len", ACQUIRE),))
def ow_read_header(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """BUSY ends the pass; a discarded record or an impossible length is not copied."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    hdr_len = read_len(m.load("header.len", (c.cons & cfg.mask) >> 3))
    if hdr_len & BUSY_BIT:
        return m.next(consumer=Consumer(pc=C_WAIT))
    end = u64(c.cons + record_length(hdr_len & LEN_MASK))
    copy = not hdr_len & DISCARD_BIT and is_ahead(c.prod, end)
    return m.next(consumer=evolve(c, pc=O_COPY if copy else O_RECHECK, len=hdr_len,
                                  copy_rec=-1 if copy else NO_COPY, copy_ok=False))


@step("ow.copy", "consumer", "overwrite-safe consumer (memcpy of the sample to a private buffer)",
      "overwrite consumer 3", (load("payload"),))
def ow_copy(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Copy the payload (ghost: which record it came from and whether it was intact then)."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    rec, ok = sample_identity(cfg, m, s, c.cons, c.len)
    return m.next(consumer=evolve(c, pc=O_RECHECK, copy_rec=rec, copy_ok=ok))


@step("ow.recheck", "consumer", "overwrite-safe consumer (re-read overwrite_pos, deliver or drop the copy)",
      "overwrite consumer 4", (load("overwrite_pos", ACQUIRE),))
def ow_recheck(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Overwritten meanwhile: drop the copy and resume at overwrite_pos; else deliver it and move on."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    over = m.load("overwrite_pos")
    if behind(c.cons, over):
        return m.next(consumer=evolve(c, pc=O_STORE, cons=over, len=0,
                                      copy_rec=-1, copy_ok=False))
    end = u64(c.cons + record_length(c.len & LEN_MASK))
    if not is_ahead(c.prod, end):
        # a length past producer_pos and yet not overwritten: cannot happen with the kernel's
        # producers; start the pass again rather than trust it
        return m.next(consumer=Consumer(pc=C_LOAD_CONS))
    nxt = evolve(c, pc=O_STORE, cons=end, len=0, copy_rec=-1, copy_ok=False)
    if c.copy_rec == NO_COPY:
        return m.next(consumer=nxt)
    return m.next(consumer=nxt, delivered=s.delivered + ((c.copy_rec, c.copy_ok),))


@step("ow.store_cons", "consumer", "overwrite-safe consumer (smp_store_release consumer_pos)",
      "overwrite consumer 5", (store("consumer_pos", RELEASE),))
def ow_store_cons(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Publish the position; then read on up to the producer_pos read, or re-read the positions."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    m.store("consumer_pos", c.cons)
    if behind(c.cons, c.prod):
        return m.next(consumer=evolve(c, pc=O_READ_HDR))
    return m.next(consumer=Consumer(pc=O_LOAD_PROD, cons=c.cons))


@step("ow.wait", "consumer", "overwrite-safe consumer (level-triggered epoll_wait, ringbuf_map_poll_kern)",
      "overwrite consumer 5", (load("consumer_pos", ACQUIRE), load("overwrite_pos", ACQUIRE),
                               load("producer_pos", ACQUIRE), load("wait_queue")))
def ow_wait(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Return at once while the kernel says data is available (overwrite mode's formula), else sleep."""
    m = Direct(s) if mem is None else mem
    m.event("wait_queue")
    cons = m.load("consumer_pos")
    over = m.load("overwrite_pos")
    ready = kernel_ready(m.load("producer_pos"), cons, over)
    return m.next(consumer=Consumer(pc=C_LOAD_CONS if ready else C_SLEEP))


_STEP_AT = {
    C_LOAD_CONS: ("ow.load_cons", ow_load_cons),
    O_LOAD_PROD: ("ow.load_prod", ow_load_prod),
    O_LOAD_OVER: ("ow.load_over", ow_load_over),
    O_READ_HDR: ("ow.read_header", ow_read_header),
    O_COPY: ("ow.copy", ow_copy),
    O_RECHECK: ("ow.recheck", ow_recheck),
    O_STORE: ("ow.store_cons", ow_store_cons),
    C_WAIT: ("ow.wait", ow_wait),
}
_ACTIONS = {pc: Action(CONSUMER_ACTOR, name) for pc, (name, _) in _STEP_AT.items()}
_IRQ_ACTION = Action(IRQ_ACTOR, "work")


def consumer_steps(cfg: Config, s: State) -> list[tuple[Action, object, tuple]]:
    """The consumer's own next step (irq_work aside): (action, step function, extra arguments)."""
    entry = _STEP_AT.get(s.consumer.pc)
    return [] if entry is None else [(_ACTIONS[s.consumer.pc], entry[1], ())]


def consumer_successors(cfg: Config, s: State, weak: object = None) -> list[tuple[Action, State]]:
    """The consumer's next step (sequential: at most one), plus a queued irq_work (sc only)."""
    out: list[tuple[Action, State]] = []
    entry = _STEP_AT.get(s.consumer.pc)
    if entry is not None:
        out.append((_ACTIONS[s.consumer.pc], entry[1](cfg, s)))
    if s.irq_pending:
        out.append((_IRQ_ACTION, irq_work(cfg, s)))
    return out


__all__ = ["C_SLEEP", "NO_COPY", "behind", "consumer_steps", "consumer_successors", "kernel_ready"]
