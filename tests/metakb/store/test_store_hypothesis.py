"""Property tests: any JSON-able configuration survives the store unchanged, and is one row."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metakb.store import KnowledgeBase

_keys = st.text(min_size=1, max_size=20)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
configurations = st.dictionaries(_keys, _values, min_size=1, max_size=8)


def _open(mode: str, folder: str) -> KnowledgeBase:
    return KnowledgeBase(":memory:" if mode == "memory" else Path(folder) / "kb.sqlite")


@pytest.mark.parametrize("mode", ["memory", "file"])
@settings(max_examples=40, deadline=None)
@given(config=configurations, seed=st.integers(0, 1000))
def test_configuration_round_trip(mode, config, seed):
    with tempfile.TemporaryDirectory() as folder, _open(mode, folder) as kb:
        space = kb.add_space("toy", "1", "{}", origin="t")
        cid = kb.add_configuration(space, config, origin="t")
        assert kb.get_configuration(cid) == config
        assert kb.configurations("toy").loc[cid, "config"] == config
        shuffled = list(config.items())
        random.Random(seed).shuffle(shuffled)
        assert kb.add_configuration(space, dict(shuffled), origin="again") == cid
        assert kb.connection.execute("SELECT count(*) FROM configurations").fetchone()[0] == 1


@pytest.mark.parametrize("mode", ["memory", "file"])
@settings(max_examples=25, deadline=None)
@given(values=st.dictionaries(_keys, st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=10))
def test_meta_feature_round_trip(mode, values):
    with tempfile.TemporaryDirectory() as folder, _open(mode, folder) as kb:
        d = kb.add_dataset("d", "h", source="file", origin="t")
        kb.set_meta_features(d, values, groups="general", extractor_version="1", origin="t")
        assert kb.meta_features(d) == values
