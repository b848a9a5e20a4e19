"""Cumulative sums per person: the closed form of a consumed cap against its recurrence."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.simulation.kernel import INF
from yibao.simulation.scan import Groups, consume, excl_sum, mismatched


def _recurrence(u: list[int], c: list[int], gid: list[int]) -> list[int]:
    out, h, last = [], 0, None
    for x, cap, g in zip(u, c, gid, strict=True):
        if g != last:
            h, last = 0, g
        out.append(h)
        h += min(x, max(0, cap - h))
    return out


rows = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 5_000), st.sampled_from((1_000, 3_000, 10_000, int(INF)))),
    min_size=1, max_size=40,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(rows)
def test_consume_is_exact_for_constant_caps_and_the_check_flags_the_rest(
    data: list[tuple[int, int, int]],
) -> None:
    data.sort(key=lambda r: r[0])  # groups contiguous, order within a group kept
    gid = [g for g, _, _ in data]
    u = np.array([x for _, x, _ in data], np.int64)
    starts = np.ones(len(gid), bool)
    starts[1:] = np.diff(gid) != 0
    g = Groups.from_starts(starts)
    for caps in ([c for _, _, c in data], [data[0][2]] * len(data)):
        c = np.array(caps, np.int64)
        guess = consume(u, c, g)
        true = _recurrence(u.tolist(), caps, g.gid.tolist())
        paid = np.minimum(u, np.maximum(0, c - guess))
        bad = mismatched(guess, paid, np.ones(len(u), bool), g)
        for i, (a, b) in enumerate(zip(guess.tolist(), true, strict=True)):
            # a row may read a wrong guess only in a group the check flags
            assert a == b or bad[g.gid[i]]
        if len(set(caps)) == 1:
            assert guess.tolist() == true  # constant cap: the closed form is exact


def test_exclusive_sums_by_sub_key_keep_the_keys_apart() -> None:
    g = Groups.from_starts(np.array([1, 0, 0, 0, 1, 0], bool))
    x = np.array([5, 7, 11, 13, 17, 19], np.int64)
    sub = np.array([0, 1, 0, -1, 1, 1], np.int64)
    assert excl_sum(x, g).tolist() == [0, 5, 12, 23, 0, 17]
    assert excl_sum(x, g, sub, 2).tolist() == [0, 0, 5, 0, 0, 17]
    assert excl_sum(x, g, sub, 0).tolist() == [0, 0, 5, 0, 0, 17]  # sparse keys, same answer
