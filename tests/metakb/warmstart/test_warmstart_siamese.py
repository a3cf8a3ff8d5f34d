"""Siamese task embeddings: targets by hand, training reduces its loss, JSON state round trip."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, DataError
from metakb.warmstart._siamese import SiameseWarmStarter, rank_dissimilarity

NAN = np.nan


def test_rank_dissimilarity_by_hand():
    perf = pd.DataFrame([[1, 2, 3, 4, 5], [2, 4, 6, 8, 10], [5, 4, 3, 2, 1]], index=list("abc"), dtype=float)
    target = rank_dissimilarity(perf, min_common=3)
    np.testing.assert_allclose(target, [[0, 0, 2], [0, 0, 2], [2, 2, 0]], atol=1e-12)
    perf.iloc[0, 0] = NAN  # pairwise complete: a and b still agree on the 4 common configurations
    target = rank_dissimilarity(perf, min_common=3)
    assert target[0, 1] == pytest.approx(0.0) and target[0, 2] == pytest.approx(2.0)
    assert np.isnan(rank_dissimilarity(perf, min_common=5)[0, 1])


def _toy(n=16, m=10, seed=0):
    rng = np.random.default_rng(seed)
    mf = pd.DataFrame(rng.normal(size=(n, 4)), index=[f"d{i}" for i in range(n)], columns=list("wxyz"))
    perf = pd.DataFrame(mf.to_numpy() @ rng.normal(size=(4, m)), index=mf.index, columns=range(1, m + 1))
    return mf, perf


@pytest.fixture(scope="module")
def trained():
    pytest.importorskip("torch")
    mf, perf = _toy()
    model = SiameseWarmStarter(n_neighbors=3, hidden=(16,), embedding_dim=4, epochs=40, batch_size=32,
                               learning_rate=1e-2, seed=1).fit(mf, perf)
    return model, mf, perf


def test_training_reduces_the_loss(trained):
    model, _, _ = trained
    assert len(model.loss_history_) == 40
    assert model.loss_history_[-1] < 0.5 * model.loss_history_[0]
    assert model.n_pairs_ == 16 * 15 // 2


def test_training_is_seeded(trained):
    model, mf, perf = trained
    again = SiameseWarmStarter(n_neighbors=3, hidden=(16,), embedding_dim=4, epochs=40, batch_size=32,
                               learning_rate=1e-2, seed=1).fit(mf, perf)
    np.testing.assert_allclose(again.embedding_, model.embedding_)
    other = SiameseWarmStarter(n_neighbors=3, hidden=(16,), embedding_dim=4, epochs=40, batch_size=32,
                               learning_rate=1e-2, seed=2).fit(mf, perf)  # only the seed differs
    assert not np.allclose(other.loss_history_, model.loss_history_)
    assert not np.allclose(other.embedding_, model.embedding_)


def test_state_round_trips_through_the_knowledge_base_as_json(trained, kb):
    model, mf, perf = trained
    state, settings = model.get_state()
    kb.save_embedding("siamese:toy", "siamese", state, settings, origin="test")
    raw = kb.connection.execute("SELECT state FROM embeddings WHERE name = 'siamese:toy'").fetchone()[0]
    json.loads(raw)  # plain JSON text, not a pickle
    row = kb.get_embedding("siamese:toy")
    loaded = SiameseWarmStarter.from_state(row["state"], row["settings"]).attach(mf, perf)
    np.testing.assert_allclose(loaded.embedding_, model.embedding_, atol=1e-12)
    query = mf.iloc[0] + 0.05
    assert [r.configuration_id for r in loaded.recommend(query, 5)] == [r.configuration_id for r in model.recommend(query, 5)]
    assert loaded.recommend(query, 1)[0].method == "siamese"
    broken = {**row["state"], "0.weight": [[0.0]]}
    with pytest.raises(ConfigError):
        SiameseWarmStarter.from_state(broken, row["settings"])


@pytest.mark.parametrize("params", [{"epochs": 0}, {"hidden": (0,)}, {"learning_rate": 0.0},
                                    {"weight_decay": -1.0}, {"min_common": 1}, {"n_threads": 0}])
def test_invalid_parameters_are_rejected(params):
    mf, perf = _toy(n=4)
    with pytest.raises(ConfigError):
        SiameseWarmStarter(**params).fit(mf, perf)


def test_too_little_data_is_rejected():
    pytest.importorskip("torch")
    mf, perf = _toy(n=4, m=3)
    with pytest.raises(DataError):
        SiameseWarmStarter(min_common=5).fit(mf, perf)
    with pytest.raises(DataError):
        SiameseWarmStarter().fit(mf.iloc[:1], perf.iloc[:1])
    with pytest.raises(ConfigError, match="not fitted"):
        SiameseWarmStarter().get_state()


def test_metakb_imports_without_torch():
    code = "import sys, metakb, metakb.warmstart, metakb.warmstart.evaluate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
