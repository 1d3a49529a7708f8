"""Consumer steps: libbpf's ring_buffer__poll / ring_buffer__consume, epoll, irq_work.

One function per step of docs/protocol.md#4. The consumer keeps its own
copy of the consumer position (``cons``) and publishes it after every record,
exactly as libbpf's ringbuf_process_ring does.

Step 4 of section 4 (after the last record: re-read producer_pos if anything
was consumed, else go to epoll) touches no shared memory, so it is not an
interleaving point of its own: the step that ends the inner loop
(``consume.store_cons`` or ``consume.load_prod``) decides where to go next.
"""

from __future__ import annotations

from model.actions import Action
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, LEN_MASK, distance, record_length, wrap
from model.state import (evolve, C_DELIVER, C_LOAD_CONS, C_LOAD_PROD, C_READ_HDR, C_SLEEP, C_STORE,
                         C_WAIT, KIND_HEADER, SUBMITTED, Consumer, State, payload_word,
                         read_len, slot_kind, slot_owner)
from model.shared import Direct, WeakMemory
from model.steps import ACQUIRE, RELEASE, load, step, store

CONSUMER_ACTOR = "c"
IRQ_ACTOR = "irq"


def _resting(pc: int) -> Consumer:
    """The consumer at epoll or at the start of a pass: its locals are dead, so they are cleared."""
    return Consumer(pc=pc)


def _after_caught_up(c_pc_if_new: int, cons: int, prod: int, got_new: bool) -> int:
    """Step 4: more records, re-read producer_pos, or go to epoll."""
    if cons < prod:
        return C_READ_HDR
    return c_pc_if_new if got_new else C_WAIT


@step("consume.load_cons", "consumer", "ringbuf_process_ring (smp_load_acquire consumer_pos)",
      "4.1", (load("consumer_pos", ACQUIRE),))
def consume_load_cons(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Start a consume pass from the published consumer position."""
    m = Direct(s) if mem is None else mem
    return m.next(consumer=evolve(s.consumer, pc=C_LOAD_PROD, cons=m.load("consumer_pos")))


@step("consume.load_prod", "consumer", "ringbuf_process_ring (smp_load_acquire producer_pos)",
      "4.2", (load("producer_pos", ACQUIRE),))
def consume_load_prod(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Snapshot producer_pos; records reserved after this are seen on the next pass."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    prod = m.load("producer_pos")
    pc = _after_caught_up(C_LOAD_PROD, c.cons, prod, False)
    c = _resting(pc) if pc == C_WAIT else evolve(c, pc=pc, prod=prod, got_new=False, len=0)
    return m.next(consumer=c)


@step("consume.read_header", "consumer", "ringbuf_process_ring (smp_load_acquire header len)",
      "4.3", (load("header.len", ACQUIRE),))
def consume_read_header(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Read the next header: BUSY ends the pass; otherwise step past the record."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    hdr_len = read_len(m.load("header.len", (c.cons & cfg.mask) >> 3))
    if hdr_len & BUSY_BIT:
        return m.next(consumer=_resting(C_WAIT))
    cons = wrap(c.cons + record_length(hdr_len & LEN_MASK), cfg.position_bits)
    pc = C_STORE if hdr_len & DISCARD_BIT else C_DELIVER
    return m.next(consumer=evolve(c, pc=pc, cons=cons, got_new=True, len=hdr_len))


def sample_identity(cfg: Config, m: Direct, s: State, start: int, hdr_len: int) -> tuple[int, bool]:
    """Which record the consumer is handing out at ``start``, and whether it is intact.

    Intact means: the header there is that record's, the record was submitted,
    the len read is its size, and every payload word the callback reads is
    still its own. The callback reads the payload words the len it was given
    covers (loads through ``m``); which record's header it was is ghost
    knowledge (``m.peek``: the header word at the consumer's view, the one it
    read in ``consume.read_header``).
    """
    words = [m.load("payload", ((start + 8 + 8 * i) & cfg.mask) >> 3)
             for i in range(min(((hdr_len & LEN_MASK) + 7) // 8, cfg.slots))]
    word = m.peek((start & cfg.mask) >> 3)
    if slot_kind(word) != KIND_HEADER:
        return -1, False
    rec = slot_owner(word)
    r = s.records[rec]
    ok = r.status == SUBMITTED and r.pos == start and (hdr_len & LEN_MASK) == r.size
    if ok:
        mine = payload_word(rec)
        ok = all(w == mine for w in words)
    return rec, ok


@step("consume.deliver", "consumer", "ringbuf_process_ring (sample_cb callback)",
      "4.3 deliver", (load("payload"),))
def consume_deliver(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Hand the sample to the callback (ghost: log which record it was and whether it was intact)."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    start = wrap(c.cons - record_length(c.len & LEN_MASK), cfg.position_bits)
    entry = sample_identity(cfg, m, s, start, c.len)
    return m.next(consumer=evolve(c, pc=C_STORE), delivered=s.delivered + (entry,))


@step("consume.store_cons", "consumer", "ringbuf_process_ring (smp_store_release consumer_pos)",
      "4.3 store", (store("consumer_pos", RELEASE),))
def consume_store_cons(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Publish the new consumer position, freeing the record's space for producers."""
    m = Direct(s) if mem is None else mem
    c = s.consumer
    pc = _after_caught_up(C_LOAD_PROD, c.cons, c.prod, c.got_new)
    m.store("consumer_pos", c.cons)
    return m.next(consumer=evolve(c, pc=pc, len=0))


@step("poll.wait", "consumer", "ring_buffer__poll (epoll_wait on ringbuf_map_poll_kern)",
      "4.5", (load("producer_pos", ACQUIRE), load("consumer_pos", ACQUIRE), load("wait_queue")))
def poll_wait(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Level: return at once while data is available. Edge: only if a wakeup came. Else sleep.

    The modelling decision for weak memory: the kernel's ringbuf_map_poll_kern
    loads consumer_pos and then producer_pos, both with acquire, after the
    consumer's own consumer_pos store; whether the epoll path executes a full
    barrier before them is not something the ring buffer code promises (the
    wait-queue and epoll locks happen to give one on some paths). So by
    default there is no fence here, and ``--fence c.poll.wait`` adds one.
    The edge-triggered consumer decides on the wakeup alone (``edge_ready``,
    the wait queue: an SC event, ``model.overrides.SC_EVENTS``). The check and
    going to sleep are one step, atomic with respect to wakeups.
    """
    m = Direct(s) if mem is None else mem
    m.event("wait_queue")
    if cfg.consumer == "level":
        cons = m.load("consumer_pos")
        ready = distance(m.load("producer_pos"), cons, cfg.position_bits) != 0
        return m.next(consumer=_resting(C_LOAD_CONS if ready else C_SLEEP))
    if s.edge_ready:
        return m.next(consumer=_resting(C_LOAD_CONS), edge_ready=False)
    return m.next(consumer=_resting(C_SLEEP))


@step("work", "irq", "bpf_ringbuf_notify (irq_work callback, wake_up_all)", "4.6",
      (store("wait_queue"),))
def irq_work(cfg: Config, s: State, mem: Direct | None = None) -> State:
    """Run the queued wakeup: a sleeping consumer wakes; an awake edge consumer gets a pending event.

    Touches no ring memory: the wait queue is an SC event (``model.overrides.SC_EVENTS``).
    A consumer woken from its sleep returns through the wait-queue lock, so
    under weak memory it synchronises with the wakeup (``model.shared.Weak.event``).
    """
    c = s.consumer
    if mem is not None:
        mem.event("wait_queue")
    if c.pc == C_SLEEP:
        pc = C_LOAD_CONS if cfg.consumer == "edge" else C_WAIT
        if mem is None:
            return evolve(s, consumer=_resting(pc), irq_pending=False)
        mem.event("wait_queue", woken=True)
        return mem.next(consumer=_resting(pc), irq_pending=False)
    if mem is not None:
        return mem.next(irq_pending=False, edge_ready=True) if cfg.consumer == "edge" else mem.next(irq_pending=False)
    if cfg.consumer == "edge":
        return evolve(s, irq_pending=False, edge_ready=True)
    return evolve(s, irq_pending=False)


_STEP_AT = {
    C_LOAD_CONS: ("consume.load_cons", consume_load_cons),
    C_LOAD_PROD: ("consume.load_prod", consume_load_prod),
    C_READ_HDR: ("consume.read_header", consume_read_header),
    C_DELIVER: ("consume.deliver", consume_deliver),
    C_STORE: ("consume.store_cons", consume_store_cons),
    C_WAIT: ("poll.wait", poll_wait),
}
_ACTIONS = {pc: Action(CONSUMER_ACTOR, name) for pc, (name, _) in _STEP_AT.items()}
_IRQ_ACTION = Action(IRQ_ACTOR, "work")


def consumer_steps(cfg: Config, s: State) -> list[tuple[Action, object, tuple]]:
    """The consumer's own next step (irq_work aside): (action, step function, extra arguments)."""
    entry = _STEP_AT.get(s.consumer.pc)
    return [] if entry is None else [(_ACTIONS[s.consumer.pc], entry[1], ())]


def consumer_successors(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[tuple[Action, State]]:
    """The consumer's next step (it is sequential: at most one), plus a queued irq_work."""
    out: list[tuple[Action, State]] = []
    entry = _STEP_AT.get(s.consumer.pc)
    if entry is not None:
        if weak is None:
            out.append((_ACTIONS[s.consumer.pc], entry[1](cfg, s)))
        else:
            out.extend(weak.outcomes(s, cfg.producers, _ACTIONS[s.consumer.pc], entry[1], ()))
    if s.irq_pending:
        if weak is None:
            out.append((_IRQ_ACTION, irq_work(cfg, s)))
        else:
            out.extend(weak.outcomes(s, cfg.producers + 1, _IRQ_ACTION, irq_work, ()))
    return out
