"""Near-neighbour search in Hamming space: every stored 64-bit code within ``radius`` bits of a query.

:class:`HammingIndex` is multi-index hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with
Multi-Index Hashing", CVPR 2012): the 64 bits are cut into ``m`` substrings, and two codes within ``r`` bits agree
within ``r // m`` bits on at least one substring (pigeonhole). Each substring has a sorted table; a query looks up
every substring value within ``r // m`` bits of its own (``sum_k C(b, k)`` probes for a ``b``-bit substring), and
only the codes found there are compared in full. ``m`` is chosen per index size from that cost model.

Everything is vectorised with numpy over a batch of queries. Codes added after the last build sit in a small buffer
searched by brute force; the tables are rebuilt when the buffer grows past a quarter of the index, so streaming
inserts cost amortised ``O(log N)`` per code.

Results are exact (no false negatives, no approximation) and returned in a deterministic order.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
_MIN_BUFFER = 2048
_MAX_PROBES = 50_000  # per substring and query
_QUERY_BLOCK = 1 << 21  # probes (queries x probes per substring) handled at once: bounds memory to ~50 MB


def popcount64(x: np.ndarray) -> np.ndarray:
    """Number of set bits of each element of a ``uint64`` array (same shape, ``uint8``).

    >>> popcount64(np.array([0, 1, 2**64 - 1], dtype=np.uint64)).tolist()
    [0, 1, 64]
    """
    x = np.ascontiguousarray(x, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        counted: np.ndarray = np.bitwise_count(x).astype(np.uint8)
        return counted
    out: np.ndarray = _POP8[x.view(np.uint8)].reshape(*x.shape, 8).sum(axis=-1, dtype=np.uint8)
    return out


def _probe_count(bits: int, radius: int) -> int:
    return sum(math.comb(bits, k) for k in range(min(radius, bits) + 1))


def _flips(bits: int, radius: int) -> np.ndarray:
    """Every ``bits``-bit mask with at most ``radius`` bits set, as uint64."""
    masks = [sum(1 << i for i in combo) for k in range(radius + 1) for combo in itertools.combinations(range(bits), k)]
    return np.array(masks, dtype=np.uint64)


def choose_substrings(n: int, radius: int) -> int:
    """Number of substrings that minimises probes + expected candidates for ``n`` uniform codes.

    >>> choose_substrings(30_000, 10), choose_substrings(1_000_000, 10)
    (4, 3)
    """
    best, best_cost = 1, math.inf
    for m in range(1, 9):
        bits = 64 // m
        if bits > 32:
            continue
        probes = _probe_count(bits, radius // m)
        if probes > _MAX_PROBES:
            continue
        cost = m * (probes + n * probes / 2.0**bits)
        if cost < best_cost:
            best, best_cost = m, cost
    return best


class _Tables:
    """Every substring's lookup in one sorted array, so that a query costs the same few numpy calls for any ``m``.

    Entry key of code ``c`` in substring ``j``: ``j * 2**B + substring_j(c)`` with ``B`` the widest substring. With
    few enough slots, a dense ``starts`` array maps a key to its run of entries; otherwise ``searchsorted`` does.
    """

    def __init__(self, codes: np.ndarray, m: int, radius: int) -> None:
        self.layout: list[tuple[int, int, np.ndarray]] = []  # (shift, bits, flips) per substring
        shift = 64
        for j in range(m):
            bits = 64 // m + (1 if j < 64 % m else 0)
            shift -= bits
            self.layout.append((shift, bits, _flips(bits, radius // m)))
        self.width = max(bits for _, bits, _ in self.layout)
        keys = np.concatenate([self._keys(codes, j) for j in range(m)]) if len(codes) else np.zeros(0, np.uint64)
        order = np.argsort(keys, kind="stable")
        self.sorted = keys[order]
        self.ids = (order % max(1, len(codes))).astype(np.int64)
        slots = m << self.width
        self.dense = slots <= max(1 << 18, 16 * len(keys))
        if self.dense:
            counts = np.bincount(keys.astype(np.int64), minlength=slots)
            self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def _keys(self, codes: np.ndarray, j: int) -> np.ndarray:
        shift, bits, _ = self.layout[j]
        value = (codes >> np.uint64(shift)) & np.uint64((1 << bits) - 1)
        out: np.ndarray = value | np.uint64(j << self.width)
        return out

    def probes(self, codes: np.ndarray) -> np.ndarray:
        """``(Q, P)`` keys to look up: every substring value within the probe radius of each query's, all tables."""
        parts = [self._keys(codes, j)[:, None] ^ flips[None, :] for j, (_, _, flips) in enumerate(self.layout)]
        return np.concatenate(parts, axis=1)

    def ranges(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end (positions in :attr:`ids`) of the entries equal to each key."""
        if self.dense:
            k = keys.astype(np.int64)
            return self.starts[k], self.starts[k + 1]
        return np.searchsorted(self.sorted, keys, side="left"), np.searchsorted(self.sorted, keys, side="right")


class HammingIndex:
    """Exact radius search over 64-bit codes (see the module docstring).

    Args:
        radius: largest Hamming distance reported, ``0 <= radius < 64``.
        substrings: number of substrings ``m``; ``None`` chooses it from the index size at each rebuild.

    >>> index = HammingIndex(radius=2)
    >>> index.add(np.array([0b1011, 0b0000, 2**63], dtype=np.uint64))
    >>> q, ids, dist = index.query(np.array([0b0011], dtype=np.uint64))
    >>> ids.tolist(), dist.tolist()
    ([0, 1], [1, 2])
    """

    def __init__(self, radius: int, *, substrings: int | None = None) -> None:
        if not 0 <= radius < 64:
            raise ValueError(f"radius must be in [0, 64), got {radius}")
        if substrings is not None and not 1 <= substrings <= 8:
            raise ValueError(f"substrings must be in [1, 8], got {substrings}")
        if substrings is not None and _probe_count(-(-64 // substrings), radius // substrings) > _MAX_PROBES:
            raise ValueError(
                f"substrings={substrings} with radius={radius} needs more than {_MAX_PROBES} probes per query; "
                "use more substrings, or None to choose them"
            )
        self.radius = radius
        self._fixed_m = substrings
        self._codes = np.zeros(0, dtype=np.uint64)  # in the tables
        self._buf = np.zeros(_MIN_BUFFER, dtype=np.uint64)  # added since the last build: _buf[:_nbuf]
        self._nbuf = 0
        self._tables: _Tables | None = None

    def __len__(self) -> int:
        return len(self._codes) + self._nbuf

    def add(self, codes: np.ndarray) -> None:
        """Append codes; their ids continue from ``len(self)`` in order."""
        codes = np.asarray(codes, dtype=np.uint64).ravel()
        if self._nbuf + len(codes) > len(self._buf):
            grown = np.zeros(max(2 * len(self._buf), self._nbuf + len(codes)), dtype=np.uint64)
            grown[: self._nbuf] = self._buf[: self._nbuf]
            self._buf = grown
        self._buf[self._nbuf : self._nbuf + len(codes)] = codes
        self._nbuf += len(codes)
        if self._nbuf > max(_MIN_BUFFER, len(self._codes) // 4):
            self.build()

    def build(self) -> None:
        """Move buffered codes into the tables (done automatically; call it to fix the layout before timing)."""
        if self._nbuf:
            self._codes = np.concatenate([self._codes, self._buf[: self._nbuf]])
            self._nbuf = 0
        m = self._fixed_m or choose_substrings(len(self._codes), self.radius)
        self._tables = _Tables(self._codes, m, self.radius)

    def query(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (query, stored code) pair within :attr:`radius` bits.

        Args:
            codes: ``(Q,)`` uint64 queries.

        Returns:
            ``(query_index, code_id, distance)``, three ``(K,)`` int64 arrays sorted by query then id.
        """
        codes = np.asarray(codes, dtype=np.uint64).ravel()
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if len(self._codes) and self._tables is not None:
            n_probes = sum(len(flips) for _, _, flips in self._tables.layout)
            block = max(1, _QUERY_BLOCK // n_probes)
            for start in range(0, len(codes), block):
                q, i, d = self._candidates(codes[start : start + block], self._tables)
                parts.append((q + start, i, d))
        if self._nbuf:
            buffered = self._buf[: self._nbuf]
            block = max(1, _QUERY_BLOCK // self._nbuf)
            for start in range(0, len(codes), block):
                dist = popcount64(codes[start : start + block, None] ^ buffered[None, :])
                q, i = np.nonzero(dist <= self.radius)
                parts.append((q.astype(np.int64) + start, i.astype(np.int64) + len(self._codes), dist[q, i]))
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        qi = np.concatenate([p[0] for p in parts])
        ids = np.concatenate([p[1] for p in parts])
        dist = np.concatenate([p[2] for p in parts]).astype(np.int64)
        keys, first = np.unique(qi * np.int64(len(self) + 1) + ids, return_index=True)
        return keys // (len(self) + 1), keys % (len(self) + 1), dist[first]

    def _candidates(self, codes: np.ndarray, tables: _Tables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs (query, id, distance) within the radius among the codes sharing a probed substring value."""
        empty = np.zeros(0, dtype=np.int64)
        probes = tables.probes(codes)
        width = probes.shape[1]
        lo, hi = tables.ranges(probes.ravel())
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return empty, empty, empty
        nz = np.nonzero(counts)[0]
        counts, lo = counts[nz], lo[nz]
        qi = np.repeat(nz // width, counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        ids = tables.ids[np.repeat(lo, counts) + (np.arange(total) - first)]
        dist = popcount64(codes[qi] ^ self._codes[ids])
        close = dist <= self.radius
        return qi[close].astype(np.int64), ids[close], dist[close]
