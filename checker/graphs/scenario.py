"""Scenarios: a trace written by hand as a few lines of text, replayed in the model.

A scenario is a list of statements separated by ``;`` or new lines; ``#``
starts a comment. Each statement is one of:

==============================  ==============================================================
``pN reserve SIZE [nmi]``       producer N calls bpf_ringbuf_reserve(SIZE) and runs every step
                                of it (check, load_cons, lock, scan..., claim) without
                                interleaving; a reservation that fails is not an error.
``pN reserve``                  finish a reservation already started (after a raw
                                ``pN.reserve.check(...)``), e.g. after the user moved consumer_pos.
``pN write``                    the program writes the payload of the record it just reserved.
``pN submit [rREC] [FLAG]``     bpf_ringbuf_submit: commit.xchg then commit.wakeup. REC defaults to
``pN discard [rREC] [FLAG]``    the oldest record the producer holds; FLAG is ``no_wakeup`` or
                                ``force_wakeup``. ``discard`` is bpf_ringbuf_discard.
``pN step``                     producer N's one next step (when exactly one is enabled).
``user consumer_pos = V``       untrusted user space stores V into consumer_pos (adversarial).
``c consume``                   the libbpf consumer runs until it is about to wait in epoll (or
                                has nothing left to do).
``c poll``                      the consumer's epoll step (``c.poll.wait``).
``c step`` / ``irq work``       one consumer step / run the queued irq_work.
``ACTOR.STEP(ARG=V,...)``       any single model action as printed in traces, e.g.
                                ``p0.reserve.check(size=16)``, ``c.consume.read_header``.
==============================  ==============================================================

The configuration comes from the command-line options, or from a header line
``config: variant=v5.13 consumer=adversarial ring_size=32 hold=2 sizes=8,16``
(any ``Config`` field, plus ``start=N``; weak memory as ``memory=tso
buffer=2`` or ``memory=ra history=3``, overrides as ``orders=STEP:LOC=ORD,...``
and ``fences=STEP,...``); options given explicitly on the command line win
over the header. Under tso a flush is the raw action ``c.flush`` or ``p0.flush``;
a statement whose step waits for an empty buffer (a commit's xchg, the
spinlock, a ``--fence``) first flushes that actor's buffer, one recorded
step per entry, as the CPU would. A statement that is not possible in the
model stops the replay with one line naming the statement, its number and
what the model allows there.

Example (CVE-2024-41009, the exact trace the BFS finds)::

    config: variant=v5.13 consumer=adversarial ring_size=32 records=2 hold=2 sizes=8,16
    p0 reserve 8; p0 write; p0.reserve.check(size=16); user consumer_pos = 16; p0 reserve
"""

from __future__ import annotations

import re
from dataclasses import fields

from checker.memory import MemoryBudget
from checker.trace import Step, Trace, TraceError, enabled_list
from model.actions import Action, ActionSyntaxError, parse_action, producer_index
from model.config import Config, ConfigError
from model.constants import BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP
from model.producer import producer_successors
from model.ringbuf import build_model
from model.state import (CONSUMER_PC_NAMES, C_NONE, C_SLEEP, C_WAIT, P_CLAIM, P_IDLE, P_LOAD_CONS,
                         P_LOCK, P_SCAN, P_WAKEUP, P_WRITE, State)


class ScenarioError(TraceError):
    """A scenario cannot be read or replayed; the message is one line naming the statement."""


_FLAGS = {"no_wakeup": BPF_RB_NO_WAKEUP, "force_wakeup": BPF_RB_FORCE_WAKEUP}
_RESERVING = (P_LOAD_CONS, P_LOCK, P_SCAN, P_CLAIM)
"""Producer program points inside bpf_ringbuf_reserve (load_cons, lock, scan, claim)."""


def split_statements(text: str) -> list[str]:
    """The statements of a scenario (comments, blank ones and the config header removed)."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if line.strip().lower().startswith("config:"):
            continue
        out += [s.strip() for s in line.split(";") if s.strip()]
    return out


def parse_header(text: str) -> tuple[dict, int | None]:
    """The ``config:`` header line as Config keyword arguments and the start position (or None)."""
    kinds = {f.name: f.type for f in fields(Config)}
    kw: dict = {}
    start = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.lower().startswith("config:"):
            continue
        for item in line[len("config:"):].replace(";", " ").split():
            shown = item if len(item) <= 60 else item[:57] + "..."
            if "=" not in item:
                raise ScenarioError(f"scenario: config item {shown!r} is not key=value")
            k, v = (x.strip() for x in item.split("=", 1))
            k = k.replace("-", "_")
            try:
                if k == "start":
                    start = int(v, 0)
                    if not 0 <= start < 2**64 or start % 8:
                        raise ScenarioError(f"scenario: config start={shown.split('=', 1)[1]} must be a "
                                            "multiple of 8 in [0, 2**64) (as for check --start)")
                elif k not in kinds:
                    raise ScenarioError(f"scenario: unknown config key {shown.split('=', 1)[0]!r} "
                                        f"(one of {', '.join(kinds)}, start)")
                elif k == "sizes":
                    kw[k] = tuple(int(x, 0) for x in v.split(",") if x)
                elif k in ("nmi", "discard", "wakeup_flags"):
                    kw[k] = v.lower() in ("1", "true", "yes", "on")
                elif k in ("variant", "consumer", "memory"):
                    kw[k] = v
                elif k in ("orders", "fences"):
                    kw[k] = tuple(x for x in v.split(",") if x)
                else:
                    kw[k] = None if v.lower() == "none" else int(v, 0)
            except ScenarioError:
                raise
            except ValueError:
                raise ScenarioError(f"scenario: config value {shown!r} is not a number") from None
    return kw, start


_CHOICES = ("read_", "write_", "rmw_")
"""Prefixes of the action arguments that name an RA choice point's pick (``model.shared``)."""


class _Replay:
    """Replays statements one model step at a time, remembering which statement each came from."""

    def __init__(self, config: Config, start: int) -> None:
        self.model = build_model(config, start)
        self.trace = Trace(config, self.model.initial_states()[0], start=start)
        self.stmt = ""
        self.number = 0

    @property
    def state(self) -> State:
        return self.trace.final

    def fail(self, what: str) -> None:
        stmt = self.stmt if len(self.stmt) <= 80 else self.stmt[:77] + "..."
        what = what if len(what) <= 400 else what[:397] + "..."
        raise ScenarioError(f"scenario statement {self.number} `{stmt}`: {what}")

    def do(self, action: Action) -> None:
        nxt = self.model.apply(self.state, action)
        while nxt is None and self._flush(action.actor):
            nxt = self.model.apply(self.state, action)
        if nxt is None:
            self.fail(f"{action} is not possible here (enabled: {enabled_list(self.model.actions(self.state))})")
        self.trace.steps.append(Step(action, nxt))

    def _flush(self, actor: str) -> bool:
        """Tso: one flush of ``actor``'s buffer, taken when its next step waits for an empty buffer
        (xchg, the spinlock, a fence), as the CPU drains it; False when there is nothing to flush."""
        flush = Action(actor, "flush")
        nxt = self.model.apply(self.state, flush) if self.model.weak is not None else None
        if nxt is None:
            return False
        self.trace.steps.append(Step(flush, nxt))
        return True

    def _own_steps(self, actor: str) -> list[Action]:
        """``actor``'s program steps now (flushes left out); for a producer only its own successors are
        built, since the adversary's are many on a large ring."""
        p = producer_index(actor)
        if 0 <= p < self.model.config.producers:
            mine = [a for a, _ in producer_successors(self.model.config, self.state, p, self.model.weak)]
        else:
            mine = [a for a in self.model.actions(self.state) if a.actor == actor]
        return [a for a in mine if a.step != "flush"]

    def only_step(self, actor: str) -> Action:
        """The one step ``actor`` can take. Under weak memory a flush is not a step of the program
        (write it as ``p0.flush``), and of an RA step's outcomes the short forms take the one that
        reads and writes the newest messages (no ``read_*``/``write_*`` choice arguments)."""
        mine = self._own_steps(actor)
        while not mine and self._flush(actor):
            mine = self._own_steps(actor)
        newest = [a for a in mine if not any(k.startswith(_CHOICES) for k, _ in a.args)]
        if len(mine) > 1 and len(newest) == 1:
            mine = newest
        if len(mine) != 1:
            names = enabled_list(mine)
            self.fail(f"{actor} has {len(mine)} possible steps here ({names}); write one as ACTOR.STEP(...)")
        return mine[0]

    def producer(self, p: int) -> None:
        if not 0 <= p < self.model.config.producers:
            self.fail(f"there is no producer p{p} (the configuration has {self.model.config.producers})")

    def reserve(self, p: int, words: list[str]) -> None:
        actor = f"p{p}"
        if words:
            try:
                size = int(words[0], 0)
            except ValueError:
                self.fail(f"size {words[0]!r} is not an integer")
            extra = words[1:]
            if extra not in ([], ["nmi"]):
                self.fail("expected `reserve SIZE [nmi]`")
            args = (("size", size), ("nmi", 1)) if extra else (("size", size),)
            self.do(Action(actor, "reserve.check", args))
        elif self.state.producers[p].pc not in _RESERVING:
            self.fail(f"{actor} is not inside a reservation; write `{actor} reserve SIZE`")
        while self.state.producers[p].pc in _RESERVING:
            self.do(self.only_step(actor))

    def commit(self, p: int, discard: bool, words: list[str]) -> None:
        actor = f"p{p}"
        held = self.state.producers[p].held
        rec = held[0] if held else -1
        flags = 0
        for w in words:
            if re.fullmatch(r"r\d+", w):
                rec = int(w[1:])
            elif w in _FLAGS:
                flags = _FLAGS[w]
            else:
                self.fail(f"{w!r} is neither a record (r0, r1, ...) nor a flag (no_wakeup, force_wakeup)")
        if rec < 0:
            self.fail(f"{actor} holds no reservation to commit")
        self.do(Action(actor, "commit.xchg", (("rec", rec), ("discard", int(discard)), ("flags", flags))))
        if self.state.producers[p].pc == P_WAKEUP:
            self.do(Action(actor, "commit.wakeup"))

    def consume(self) -> None:
        c = self.state.consumer
        if c.pc == C_NONE:
            self.fail("there is no libbpf consumer (the configuration's consumer is adversarial)")
        if c.pc == C_SLEEP:
            self.fail("the consumer is asleep in epoll; it needs a wakeup (`irq work`)")
        if c.pc == C_WAIT:
            self.do(Action("c", "poll.wait"))
        while self.state.consumer.pc not in (C_WAIT, C_SLEEP):
            self.do(Action("c", _consumer_step(self.state)))

    def statement(self, number: int, stmt: str) -> None:
        self.number, self.stmt = number, stmt
        words = stmt.replace("=", " = ").split()
        head = words[0]
        if re.fullmatch(r"[a-z]+\d*\.[a-z_.]+(\(.*\))?", stmt.replace(" ", "")):
            try:
                self.do(parse_action(stmt))
            except ActionSyntaxError as e:
                self.fail(str(e))
            return
        if re.fullmatch(r"p\d+", head) and len(words) >= 2:
            p = int(head[1:])
            self.producer(p)
            verb, rest = words[1], words[2:]
            if verb == "reserve":
                return self.reserve(p, rest)
            if verb == "write" and not rest:
                if self.state.producers[p].pc != P_WRITE:
                    self.fail(f"p{p} has no fresh reservation to write (it is at "
                              f"{'idle' if self.state.producers[p].pc == P_IDLE else 'another step'})")
                return self.do(self.only_step(head))
            if verb in ("submit", "discard", "commit"):
                return self.commit(p, verb == "discard", rest)
            if verb == "step" and not rest:
                return self.do(self.only_step(head))
        if head == "user" and len(words) == 4 and words[1:3] == ["consumer_pos", "="]:
            try:
                value = int(words[3], 0)
            except ValueError:
                self.fail(f"{words[3]!r} is not an integer")
            return self.do(Action("user", "store_cons", (("value", value),)))
        if head == "c" and len(words) == 2 and words[1] in ("consume", "poll", "step"):
            if words[1] == "consume":
                return self.consume()
            if words[1] == "poll":
                return self.do(Action("c", "poll.wait"))
            return self.do(self.only_step("c"))
        if words == ["irq", "work"]:
            return self.do(Action("irq", "work"))
        self.fail("not a statement (see `ringcheck trace --help` for the scenario language)")


def _consumer_step(s: State) -> str:
    """The name of the consumer's next step (its program point names it)."""
    return CONSUMER_PC_NAMES[s.consumer.pc]


def run_scenario(text: str, config: Config, start: int = 0, budget: MemoryBudget | None = None) -> Trace:
    """Replay a scenario in the model; ScenarioError (one line) at the first impossible statement.

    Every state of a scenario is kept, and on a large ring each one holds a word
    per 8 bytes, so with a ``budget`` the memory is looked at after every
    statement; ``ScenarioOutOfMemory`` says where it ran over.
    """
    statements = split_statements(text)
    if not statements:
        raise ScenarioError("scenario: no statements (write e.g. `p0 reserve 16; p0 write; p0 submit`)")
    r = _Replay(config, start)
    for n, stmt in enumerate(statements, 1):
        r.statement(n, stmt)
        if budget is not None and budget.exceeded():
            raise ScenarioOutOfMemory(f"scenario: stopped at bound {budget.bound()} after statement {n} of "
                                      f"{len(statements)} ({len(r.trace)} steps); nothing written")
    return r.trace


class ScenarioOutOfMemory(Exception):
    """A scenario's states outgrew the memory budget; the message is one line."""


def scenario_config(text: str, base: dict, explicit: dict) -> tuple[Config, int]:
    """The scenario's configuration: ``base`` options, then the header, then ``explicit`` options."""
    header, start = parse_header(text)
    try:
        return Config(**{**base, **header, **explicit}), start or 0
    except (ConfigError, TypeError) as e:
        raise ScenarioError(f"scenario: {e}") from None


def config_header(config: Config, start: int = 0) -> str:
    """The ``config:`` header line that gives back ``config`` (and ``start`` when nonzero)."""
    items = [f"variant={config.variant}", f"ring_size={config.ring_size}", f"producers={config.producers}",
             f"records={config.records}", f"hold={config.hold}",
             "sizes=" + ",".join(str(x) for x in config.sizes), f"consumer={config.consumer}",
             f"nmi={int(config.nmi)}", f"discard={int(config.discard)}",
             f"wakeup_flags={int(config.wakeup_flags)}"]
    if config.adversary_reach is not None:
        items.append(f"adversary_reach={config.adversary_reach}")
    if config.memory == "tso":
        items.append(f"memory=tso buffer={config.buffer}")
    elif config.memory == "ra":
        items.append(f"memory=ra history={config.history}")
    if config.orders:
        items.append("orders=" + ",".join(config.orders))
    if config.fences:
        items.append("fences=" + ",".join(config.fences))
    if start:
        items.append(f"start={start}")
    return "config: " + " ".join(items)


def _statements(trace: Trace) -> list[str]:
    """The trace's steps as statements, using the short forms where a call ran uninterrupted."""
    steps, states = trace.steps, trace.states
    out: list[str] = []
    i = 0
    while i < len(steps):
        a = steps[i].action
        p = producer_index(a.actor)
        if p >= 0 and a.step.startswith("reserve."):
            j = i + 1
            while (j < len(steps) and steps[j].action.actor == a.actor
                   and states[j].producers[p].pc in _RESERVING):
                j += 1
            if states[j].producers[p].pc not in _RESERVING:
                if a.step == "reserve.check":
                    nmi = dict(a.args).get("nmi", 0)
                    out.append(f"{a.actor} reserve {a.arg('size')}" + (" nmi" if nmi else ""))
                else:
                    out.append(f"{a.actor} reserve")
            else:
                out += [str(steps[k].action) for k in range(i, j)]
            i = j
        elif p >= 0 and a.step == "write":
            out.append(f"{a.actor} write")
            i += 1
        elif (p >= 0 and a.step == "commit.xchg" and i + 1 < len(steps)
              and steps[i + 1].action == Action(a.actor, "commit.wakeup")):
            verb = "discard" if a.arg("discard") else "submit"
            flag = {v: k for k, v in _FLAGS.items()}.get(a.arg("flags"), "")
            out.append(f"{a.actor} {verb} r{a.arg('rec')}" + (f" {flag}" if flag else ""))
            i += 2
        elif a.actor == "user" and a.step == "store_cons":
            out.append(f"user consumer_pos = {a.arg('value')}")
            i += 1
        else:
            out.append(str(a))
            i += 1
    return out


def trace_scenario(trace: Trace) -> str:
    """A scenario text (header and statements) that replays to exactly ``trace``."""
    header = config_header(trace.config, trace.start)
    short = "\n".join([header] + _statements(trace)) + "\n"
    if run_scenario_states(short, trace) == trace.states:
        return short
    return "\n".join([header] + [str(st.action) for st in trace.steps]) + "\n"


def run_scenario_states(text: str, trace: Trace) -> list[State] | None:
    """The states a scenario leads to in ``trace``'s configuration, or None if it does not replay."""
    try:
        return run_scenario(text, trace.config, trace.start).states
    except ScenarioError:
        return None
