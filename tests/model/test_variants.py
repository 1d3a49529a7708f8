"""Variants are data (issue 15): the registry, and a scan that no code compares variant names.

The scan reads the source of model/, specs/ and checker/ with ``ast`` and
flags every comparison that decides by a variant's name: ``x.variant ==``,
``!=``, membership of a literal collection, or any comparison with a literal
that looks like a variant name (``"v6.10"``). Lists of named configurations
(``Config(variant="v5.8", ...)``, ``for variant in (...)``) are data and are
not comparisons, so they pass. A line that selects data by a user-given name
may say so with a ``variant-name-ok:`` comment and its reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from model.config import Config, ConfigError
from model.variants import LOCKS, RQSPINLOCK, SPINLOCK, VARIANTS_BY_NAME, Rules, register, rules_of, variant_names

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("model", "specs", "checker")
EXEMPT = {Path("model/variants.py")}
"""The registry itself: the one place names meet rules."""
ALLOW_MARK = "variant-name-ok:"
NAME_LITERAL = re.compile(r"^v\d+\.\d+")
NAME_OPS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def _is_name_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(NAME_LITERAL.match(node.value))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_name_literal(e) for e in node.elts)
    return False


def _is_variant_expr(node: ast.AST) -> bool:
    """``variant``, ``x.variant``, ``x.rules.name`` or a call like ``x.variant.startswith``'s receiver."""
    if isinstance(node, ast.Name):
        return node.id == "variant" or node.id.endswith("_variant")
    if isinstance(node, ast.Attribute):
        return node.attr == "variant" or (node.attr == "name" and isinstance(node.value, ast.Attribute)
                                          and node.value.attr == "rules")
    return False


def comparisons_of_names(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, text) of every comparison of a variant name in ``source`` (see the module docstring)."""
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        hit = False
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value is None for o in operands):
                pass  # "was a variant given at all" decides nothing by name
            elif any(_is_name_literal(o) for o in operands):
                hit = True
            elif any(isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) for op in node.ops) and any(
                    _is_variant_expr(o) for o in operands):
                hit = True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("startswith", "endswith") and _is_variant_expr(node.func.value):
                hit = True
        elif isinstance(node, ast.Match) and _is_variant_expr(node.subject):
            hit = True
        if hit:
            text = lines[node.lineno - 1]
            if ALLOW_MARK not in text:
                found.append((node.lineno, text.strip()))
    return found


def _sources() -> list[Path]:
    out = []
    for top in SCANNED:
        out += [p for p in sorted((ROOT / top).rglob("*.py")) if p.relative_to(ROOT) not in EXEMPT]
    return out


def test_no_step_engine_or_encoding_compares_variant_names():
    offenders = []
    for path in _sources():
        for line, text in comparisons_of_names(path.read_text(), str(path)):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert offenders == [], "compare the rules (cfg.rules...), not the variant name:\n" + "\n".join(offenders)


def test_the_scan_covers_the_code_it_is_about():
    names = {p.relative_to(ROOT).as_posix() for p in _sources()}
    for must in ("model/producer.py", "checker/smt/producer.py", "checker/conformance/reference.py",
                 "checker/conformance/concurrent/reference.py", "checker/kernel/cli.py", "specs/smt.py"):
        assert must in names


@pytest.mark.parametrize("planted", [
    'if cfg.variant == "v6.10":\n    pass\n',
    'ok = self.variant != "v5.8"\n',
    'if variant in ("v5.13", "v6.10"):\n    pass\n',
    'if "v6.15" == name:\n    pass\n',
    'x = cfg.rules.name == "v6.15"\n',
    'x = probed.variant != SAFE_VARIANT\n',
    'x = c.variant.startswith("v6")\n',
    'x = cfg.variant is other\n',
    'x = self.indicated == self.variant\n',
    'match cfg.variant:\n    case "v5.8":\n        pass\n',
    'def f(cfg):\n    return {"a": cfg.variant == "v5.8"}\n',
])
def test_the_scan_catches_a_planted_comparison(planted):
    assert comparisons_of_names(planted), planted


@pytest.mark.parametrize("harmless", [
    'c = Config(variant="v5.8", consumer="adversarial")\n',
    'for variant in ("v5.8", "v5.13"):\n    pass\n',
    'if variant not in VARIANTS:\n    raise ValueError(variant)\n',
    'if cfg.rules.pending_scan:\n    pass\n',
    'if variant is not None:\n    pass\n',
    'doc = "compare: variant == v6.10 is wrong"\n',
    'keep = [c for c in cs if c.variant == wanted]  # variant-name-ok: the user picks configurations\n',
])
def test_the_scan_lets_data_and_rules_through(harmless):
    assert comparisons_of_names(harmless) == []


def test_few_lines_claim_the_exemption():
    marked = [f"{p.relative_to(ROOT)}:{i + 1}" for p in _sources()
              for i, line in enumerate(p.read_text().splitlines()) if ALLOW_MARK in line]
    assert len(marked) <= 2, marked


# ------------------------------------------------------------------ the registry


def test_the_registry_names_the_kernel_behaviours_oldest_first():
    names = variant_names()
    assert names[:4] == ("v5.8", "v5.13", "v6.10", "v6.15")
    assert tuple(VARIANTS_BY_NAME) == names
    assert all(rules_of(n).name == n for n in names)


@pytest.mark.parametrize("name, size_check, pending, lock", [
    ("v5.8", False, False, SPINLOCK),
    ("v5.13", True, False, SPINLOCK),
    ("v6.10", True, True, SPINLOCK),
    ("v6.15", True, True, RQSPINLOCK),
])
def test_the_rules_of_each_variant(name, size_check, pending, lock):
    r = rules_of(name)
    assert (r.checks_record_size, r.pending_scan, r.lock, r.overwrite) == (size_check, pending, lock, False)
    assert "ringbuf" in r.maps
    c = Config(variant=name)
    assert c.rules is r and c.checks_record_size == size_check and c.has_pending == pending


def test_v6_15_is_stated_for_the_user_ring_too():
    assert rules_of("v6.15").maps == ("ringbuf", "user")
    assert "a650d38915c1" in rules_of("v6.15").kernel


def test_an_unknown_variant_is_a_one_line_config_error():
    with pytest.raises(ConfigError) as e:
        Config(variant="v7.0")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("variant: 'v7.0' is not one of") and "v6.15" in msg
    with pytest.raises(KeyError):
        rules_of("v7.0")


def test_registering_twice_or_an_unknown_lock_is_refused():
    with pytest.raises(ValueError, match="twice"):
        register(Rules("v6.10", "again", checks_record_size=True, pending_scan=True))
    with pytest.raises(ValueError, match="lock"):
        register(Rules("v9.9", "bad", checks_record_size=True, pending_scan=True, lock="mutex"))
    assert "v9.9" not in VARIANTS_BY_NAME and LOCKS == (SPINLOCK, RQSPINLOCK)


def test_lock_timeout_is_a_later_field_for_rqspinlock_rules_only():
    assert "lock_timeout" not in Config(variant="v6.15").to_dict()
    d = Config(variant="v6.15", lock_timeout=True).to_dict()
    assert d["lock_timeout"] is True and Config.from_dict(d).lock_timeout
    assert "+lock_timeout" in Config(variant="v6.15", lock_timeout=True).describe()
    for bad, match in ((dict(variant="v6.10", lock_timeout=True), "spinlock"),
                       (dict(variant="v6.15", lock_timeout=1), "true or false")):
        with pytest.raises(ConfigError, match=match) as e:
            Config(**bad)
        assert "\n" not in str(e.value)
