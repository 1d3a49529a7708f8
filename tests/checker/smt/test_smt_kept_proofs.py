"""The proof logs kept in reports/proofs/ (runs too long for the suite) still speak of today's model.

Two kinds of kept log, both made by a ``ringcheck prove`` command named in them:

- ``*.txt``: the text output, headed by ``# command: ringcheck prove ...``. Its ``model digest`` line must equal
  the digest today's code gives for that command's shape and properties (``checker.smt.prove.proof_digest``),
  every obligation listed must be discharged, the count must match the list, and every verdict must be
  "holds (complete)".
- ``*.json``: the ``--json`` output. Each run's digest must equal today's for its config, properties and
  ``max_log2``; a property that "holds (complete)" must have no obligation that was not discharged; a property
  "violated" must come with a trace that replays in today's explicit model and ends in a state whose predicate
  fails for that property.

A change to a step or an invariant makes a digest differ: re-run the command and keep the new log.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from checker.smt.prove import DELIVERY, MEMORY_SAFETY, proof_digest, proof_shape
from checker.trace import Trace
from model import Config
from specs import get_property

PROOFS = Path(__file__).resolve().parents[3] / "reports" / "proofs"
TEXT_LOGS = sorted(PROOFS.glob("*.txt"))
JSON_LOGS = sorted(PROOFS.glob("*.json"))
OBLIGATION = re.compile(r"(?:round \d+: )?(initiation|consecution|lemma): (\w+)")


def _options(command: str) -> dict[str, list[str]]:
    args = shlex.split(command)
    assert args[:2] == ["ringcheck", "prove"], command
    out: dict[str, list[str]] = {}
    for flag, value in zip(args[2::2], args[3::2]):
        assert flag.startswith("--") and not value.startswith("--"), f"only `--flag value` options: {command}"
        out.setdefault(flag, []).append(value)
    return out


def _command(runs: list[dict]) -> str:
    """The command that makes a kept JSON log holding these runs."""
    cfg = Config.from_dict(runs[0]["config"])
    props = [p for run in runs for p in run["properties"]]
    default = DELIVERY if cfg.honest else MEMORY_SAFETY
    chosen = "" if sorted(props) == sorted(default) else "".join(f" --property {p}" for p in props)
    return (f"ringcheck prove --variant {cfg.variant} --consumer {cfg.consumer} --producers {cfg.producers} "
            f"--records {cfg.records} --hold {cfg.hold} --max-log2 {runs[0]['max_log2']}{chosen} --json")


def _runs(log: Path) -> list[dict]:
    return json.loads(log.read_text())["runs"]


def test_there_is_a_kept_proof_of_four_live_records():
    """Issue #3: the delivery properties for an honest (level) consumer with at least 4 live records."""
    shapes = [_options(p.read_text().splitlines()[0].removeprefix("# command: ")) for p in TEXT_LOGS]
    assert any(o.get("--consumer") == ["level"] and int(o["--records"][0]) >= 4 for o in shapes)


def test_there_are_kept_proofs_of_the_three_variants_memory_safety():
    """Issue #3: `prove --variant v6.10` proves the five; v5.13 refutes no_overlap, v5.8 in_bounds (1 x 2)."""
    verdicts: dict[str, dict[str, str]] = {}
    for log in JSON_LOGS:
        for run in _runs(log):
            cfg = Config.from_dict(run["config"])
            if cfg.consumer == "adversarial" and (cfg.producers, cfg.records, cfg.hold) == (1, 2, 2):
                verdicts.setdefault(cfg.variant, {}).update(run["verdicts"])
    assert set(verdicts.get("v6.10", {})) == set(MEMORY_SAFETY)
    assert set(verdicts["v6.10"].values()) == {"holds (complete)"}
    assert verdicts.get("v5.13", {}).get("no_overlap", "").startswith("violated")
    assert verdicts.get("v5.8", {}).get("in_bounds", "").startswith("violated")


@pytest.mark.parametrize("log", TEXT_LOGS, ids=[p.name for p in TEXT_LOGS])
def test_a_kept_text_log_is_complete_and_of_todays_model(log: Path):
    lines = log.read_text().splitlines()
    command = lines[0].removeprefix("# command: ")
    opts = _options(command)
    consumer = opts.get("--consumer", ["adversarial"])[0]
    props = opts.get("--property") or list(DELIVERY if consumer != "adversarial" else MEMORY_SAFETY)
    assert "aligned" not in props or props == ["aligned"], "keep one log per proof run"
    cfg = proof_shape(opts.get("--variant", ["v6.10"])[0], consumer, int(opts.get("--producers", ["1"])[0]),
                      int(opts.get("--records", ["2"])[0]), int(opts.get("--hold", ["2"])[0]))
    digest = [ln.removeprefix("model digest: ") for ln in lines if ln.startswith("model digest: ")]
    assert digest == [proof_digest(props, cfg, int(opts.get("--max-log2", ["32"])[0]))], \
        f"{log.name} was proved on another model: re-run `{command}` and keep its log"
    results = [re.match(r"  (initiation|consecution|lemma|round \d+): .*: (\w+)", ln) for ln in lines]
    results = [m.group(2) for m in results if m]
    total = [re.fullmatch(r"obligations: (\d+) of (\d+) discharged, [\d.]+s", ln) for ln in lines]
    total = [m for m in total if m]
    assert len(total) == 1 and total[0].group(1) == total[0].group(2) == str(len(results))
    assert results and set(results) == {"discharged"}
    verdicts = [ln for ln in lines if ln.startswith("verdict: ")]
    assert sorted(verdicts) == sorted(f"verdict: {p}: holds (complete)" for p in props)


@pytest.mark.parametrize("log", JSON_LOGS, ids=[p.name for p in JSON_LOGS])
def test_a_kept_json_log_is_of_todays_model_and_its_traces_replay(log: Path):
    runs = _runs(log)
    for run in runs:
        cfg = Config.from_dict(run["config"])
        assert run["digest"] == proof_digest(run["properties"], cfg, run["max_log2"]), \
            f"{log.name} was proved on another model: re-run `{_command(runs)}` and keep its output"
        assert set(run["verdicts"]) == set(run["properties"])
        open_goals = {m.group(2) for o in run["obligations"] if o["result"] != "discharged"
                      for m in [OBLIGATION.match(o["name"])] if m}
        for name, verdict in run["verdicts"].items():
            if verdict == "holds (complete)":
                assert name not in open_goals, f"{name} is said to hold with an obligation not discharged"
            else:
                assert verdict.startswith("violated"), f"{log.name}: {name}: {verdict}"
                assert name in open_goals
                trace = Trace.from_dict(run["traces"][name])
                trace.replay()
                assert trace.property == name
                assert get_property(name).predicate(trace.config, trace.final,
                                                     trace.model().is_terminal(trace.final)) is not None
