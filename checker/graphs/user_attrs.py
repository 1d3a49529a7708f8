"""Graph attributes and box labels of user ring states (``checker.graphs.attrs`` hands them here).

A node of a user ring state graph carries every variable of the flat view
(``model.userring.codec.user_state_view``: ``mem[8]`` becomes ``mem_8``) and
the whole state as JSON (``state``), as the kernel ring's nodes do.
"""

from __future__ import annotations

import json
import re

from model.config import Config
from model.userring.codec import drain_str, producer_str, user_slot_str, user_state_to_dict, user_state_view
from model.userring.state import UserState

LABEL_ALL_WORDS = 8


def user_state_attrs(config: Config, s: UserState) -> dict[str, str | int | bool]:
    """Scalar attributes of a user ring state, in a fixed order (names are GraphML/DOT safe)."""
    a: dict[str, str | int | bool] = {"consumer_pos": s.consumer_pos, "producer_pos": s.producer_pos,
                                      "busy": s.busy}
    for k, v in user_state_view(s).items():
        if k not in a:
            a[re.sub(r"\[(\d+)\]", r"_\1", k)] = v
    a["state"] = json.dumps(user_state_to_dict(s), sort_keys=True, separators=(",", ":"))
    return a


def user_state_label(config: Config, s: UserState) -> str:
    """A few lines for a box: positions, busy word, the data area, the drains."""
    lines = [f"cons={s.consumer_pos} prod={s.producer_pos} busy={s.busy}"]
    lines += [f"[{8 * i}] {user_slot_str(w)}" for i, w in enumerate(s.slots) if w or len(s.slots) <= LABEL_ALL_WORDS]
    lines.append(f"app: {producer_str(s.producer)}")
    lines += [f"d{d}: {drain_str(dr)}" for d, dr in enumerate(s.drains)]
    return "\n".join(lines)
