"""Multi-index Hamming search: exactly the brute-force answer, whatever the layout, streaming included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ts_instruct import hamming
from ts_instruct.hamming import HammingIndex, choose_substrings, popcount64


def _brute(stored: np.ndarray, queries: np.ndarray, radius: int) -> tuple[list[int], list[int], list[int]]:
    q, i, d = [], [], []
    for a, x in enumerate(queries.tolist()):
        for b, y in enumerate(stored.tolist()):
            dist = (x ^ y).bit_count()
            if dist <= radius:
                q.append(a)
                i.append(b)
                d.append(dist)
    return q, i, d


def _near_codes(rng: np.random.Generator, base: np.ndarray, n: int, max_flips: int) -> np.ndarray:
    """Copies of random codes of ``base`` with up to ``max_flips`` bits flipped: queries with real neighbours."""
    out = base[rng.integers(0, len(base), n)].copy()
    for j in range(n):
        for bit in rng.choice(64, int(rng.integers(0, max_flips + 1)), replace=False):
            out[j] ^= np.uint64(1) << np.uint64(int(bit))
    return out


codes = st.lists(st.integers(0, 2**64 - 1), min_size=0, max_size=60)


@settings(max_examples=60, deadline=None)
@given(
    stored=codes,
    queries=codes,
    radius=st.integers(0, 12),
    substrings=st.one_of(st.none(), st.integers(1, 8)),
    near=st.integers(0, 20),
    seed=st.integers(0, 2**16),
)
def test_index_equals_brute_force(stored, queries, radius, substrings, near, seed):
    if substrings is not None and hamming._probe_count(-(-64 // substrings), radius // substrings) > 5000:
        substrings = None  # a layout that is exact but far too slow to build; refused, see test_bad_arguments
    stored_arr = np.array(stored, dtype=np.uint64)
    query_arr = np.array(queries, dtype=np.uint64)
    if len(stored_arr) and near:
        query_arr = np.concatenate([query_arr, _near_codes(np.random.default_rng(seed), stored_arr, near, radius + 2)])
    index = HammingIndex(radius, substrings=substrings)
    index.add(stored_arr)
    index.build()
    q, i, d = index.query(query_arr)
    assert (q.tolist(), i.tolist(), d.tolist()) == _brute(stored_arr, query_arr, radius)


def test_streaming_adds_and_rebuilds_match_brute_force(monkeypatch):
    monkeypatch.setattr(hamming, "_MIN_BUFFER", 16)  # force several rebuilds and a live buffer
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 2**63, 500, dtype=np.uint64) * np.uint64(2)
    index = HammingIndex(6)
    for k in range(0, 500, 7):
        index.add(stored[k : k + 7])
        if k % 91 == 0:  # query while codes sit both in the tables and in the buffer
            seen = stored[: min(k + 7, 500)]
            queries = _near_codes(rng, seen, 10, 8)
            q, i, d = index.query(queries)
            assert (q.tolist(), i.tolist(), d.tolist()) == _brute(seen, queries, 6)
    assert len(index) == 500


def test_large_random_index_matches_vectorised_brute_force():
    rng = np.random.default_rng(1)
    stored = rng.integers(0, 2**63, 20_000, dtype=np.uint64) ^ (rng.integers(0, 2, 20_000, dtype=np.uint64) << 63)
    queries = np.concatenate([_near_codes(rng, stored, 300, 12), rng.integers(0, 2**63, 300, dtype=np.uint64)])
    index = HammingIndex(10)
    index.add(stored)
    q, i, d = index.query(queries)
    dist = popcount64(queries[:, None] ^ stored[None, :])
    bq, bi = np.nonzero(dist <= 10)
    assert np.array_equal(q, bq) and np.array_equal(i, bi) and np.array_equal(d, dist[bq, bi])
    assert len(q) >= 250  # the planted neighbours within 10 bits are found (flips are 0..12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"radius": -1}, "radius must be in"),
        ({"radius": 64}, "radius must be in"),
        ({"radius": 3, "substrings": 0}, "substrings must be in"),
        ({"radius": 3, "substrings": 9}, "substrings must be in"),
        ({"radius": 12, "substrings": 1}, "probes per query"),  # C(64, <=12) probes
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HammingIndex(**kwargs)


def test_popcount_fallback_agrees(monkeypatch):
    x = np.random.default_rng(2).integers(0, 2**63, 1000, dtype=np.uint64) * np.uint64(3)
    expected = popcount64(x)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert np.array_equal(popcount64(x), expected)
    assert expected.tolist() == [int(v).bit_count() for v in x.tolist()]


@pytest.mark.parametrize("n", [0, 10, 1000, 100_000, 10_000_000])
@pytest.mark.parametrize("radius", [0, 5, 10, 16])
def test_chosen_substrings_keep_tables_small(n, radius):
    m = choose_substrings(n, radius)
    assert 1 <= m <= 8 and 64 // m <= 32
