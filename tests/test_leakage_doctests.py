"""The doctest examples of the fingerprint, Hamming-index and leakage modules run (and pass) with the suite."""

from __future__ import annotations

import doctest

import pytest

from ts_instruct import fingerprint, hamming, leakage


@pytest.mark.parametrize("module", [fingerprint, hamming, leakage], ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0
