"""The vector view of a search space, checked against ConfigSpace 1.x (HpBandSter's encoder)."""

from __future__ import annotations

import math

import ConfigSpace as CS
import numpy as np
import pytest

from metakb.errors import ConfigError
from metakb.optimizers._space import SpaceCodec


def _lcbench_like() -> CS.ConfigurationSpace:
    space = CS.ConfigurationSpace()
    space.add([CS.UniformIntegerHyperparameter("batch_size", 16, 512, log=True),
               CS.UniformFloatHyperparameter("learning_rate", 1e-4, 1e-1, log=True),
               CS.UniformFloatHyperparameter("momentum", 0.1, 0.99),
               CS.UniformIntegerHyperparameter("num_layers", 1, 5)])
    return space


def test_numeric_encoding_is_configspace_vector() -> None:
    # HpBandSter models Configuration.get_array() and decodes with Configuration(vector=...).
    space = _lcbench_like()
    codec = SpaceCodec(space)
    space.seed(0)  # the same 200 draws in every run
    for config in space.sample_configuration(200):
        # absolute tolerance on the [0, 1] vector: ConfigSpace's value round trip loses ~1e-11
        # near a log bound, which a relative tolerance on a tiny coordinate would flag
        np.testing.assert_allclose(codec.encode(dict(config)), config.get_array(), rtol=0, atol=1e-9)


def test_integer_decoding_is_configspace_to_value() -> None:
    space = _lcbench_like()
    codec = SpaceCodec(space)
    u = np.random.default_rng(0).random((2000, 4))
    u[:5] = [0.0, 0.0, 0.0, 0.124], [1.0, 1.0, 1.0, 0.126], [0.5] * 4, [0.2] * 4, [0.9] * 4
    for name, j in (("batch_size", 0), ("num_layers", 3)):
        expected = space[name].to_value(u[:, j])
        got = [codec.decode(row)[name] for row in u]
        assert got == expected.tolist()
    # Hand-computed: num_layers 1..5 sits at 0, .25, .5, .75, 1; the end values own half bins.
    assert [codec.decode(np.array([0.5, 0.5, 0.5, v]))["num_layers"]
            for v in (0.124, 0.126, 0.874, 0.876)] == [1, 2, 4, 5]


def test_random_integers_are_uniform_over_values_not_over_the_vector() -> None:
    codec = SpaceCodec(_lcbench_like())
    rng = np.random.default_rng(1)
    configs = [codec.sample(rng) for _ in range(20000)]
    layers = np.bincount([c["num_layers"] for c in configs], minlength=6)[1:] / len(configs)
    np.testing.assert_allclose(layers, 0.2, atol=0.012)  # a uniform vector would give 1/8 at 1
    # Log integer: log-uniform over [15.5, 512.5], so P(16) = log(16.5 / 15.5) / log(512.5 / 15.5).
    p16 = math.log(16.5 / 15.5) / math.log(512.5 / 15.5)
    freq16 = np.mean([c["batch_size"] == 16 for c in configs])
    assert abs(freq16 - p16) < 0.005 and p16 > 0.017


def test_ordinal_is_an_integer_over_positions() -> None:
    space = CS.ConfigurationSpace()
    space.add([CS.OrdinalHyperparameter("size", ["s", "m", "l"]),
               CS.OrdinalHyperparameter("one", ["only"])])
    codec = SpaceCodec(space)
    assert codec.names == ["one", "size"]  # ConfigSpace 1.x orders hyperparameters by name
    np.testing.assert_allclose(codec.encode({"size": "m", "one": "only"}), [0.0, 0.5])
    assert codec.decode(np.array([0.7, 0.24]))["size"] == "s"
    assert codec.decode(np.array([0.0, 0.26]))["size"] == "m"
    assert codec.decode(np.array([0.0, 0.76]))["size"] == "l"
    rng = np.random.default_rng(2)
    sizes = [codec.sample(rng)["size"] for _ in range(6000)]
    assert all(abs(sizes.count(v) / 6000 - 1 / 3) < 0.02 for v in ("s", "m", "l"))
    with pytest.raises(ConfigError, match="not among"):
        codec.encode({"size": "xl"})


def test_encode_rejects_non_positive_log_values() -> None:
    codec = SpaceCodec(_lcbench_like())
    with pytest.raises(ConfigError, match="must be > 0"):
        codec.encode({"learning_rate": 0.0})
    assert np.isnan(codec.encode({})).all()
