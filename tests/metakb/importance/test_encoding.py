"""The unit-cube encoding of configurations."""

from __future__ import annotations

import ConfigSpace as CS
import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError
from metakb.importance._encoding import decode_value, encode, params_of_space


@pytest.fixture()
def space():
    return CS.ConfigurationSpace({
        "lr": CS.Float("lr", (1e-4, 1.0), log=True, default=1e-2), "n": (1, 5),
        "opt": CS.Categorical("opt", ["a", "b", "c", "d"], default="b"), "const": CS.Constant("const", 3),
        "flag": CS.Categorical("flag", [True, False]), "size": CS.OrdinalHyperparameter("size", ["s", "m", "l"])})


def test_encoding_by_hand(space):
    params = params_of_space(space)
    assert [p.name for p in params] == ["flag", "lr", "n", "opt", "size"]  # constants left out, space order
    frame = pd.DataFrame({"lr": [1e-4, 1e-2, np.nan], "n": [1, 3, 5], "opt": ["a", None, "d"],
                          "flag": ["True", False, True], "size": ["s", "m", "l"]})
    x = encode(frame, params)
    np.testing.assert_allclose(x[:, 1], [0.0, 0.5, 0.5])  # log scale; NaN imputed with the default 1e-2
    np.testing.assert_allclose(x[:, 2], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(x[:, 3], [0.125, 0.375, 0.875])  # code points (i + 0.5) / 4; None -> "b"
    np.testing.assert_allclose(x[:, 0], [0.25, 0.75, 0.25])  # True/"True" are one choice after JSON
    np.testing.assert_allclose(x[:, 4], [1 / 6, 0.5, 5 / 6])
    assert decode_value(params[1], 0.5) == pytest.approx(1e-2)
    assert decode_value(params[2], 0.5) == 3 and isinstance(decode_value(params[2], 0.5), int)
    assert decode_value(params[3], 0.9) == "d"


def test_encoding_errors(space):
    params = params_of_space(space)
    with pytest.raises(ConfigError, match="got value 'z'"):
        encode(pd.DataFrame({"lr": [0.1], "n": [1], "opt": ["z"], "flag": [True], "size": ["s"]}), params)
    with pytest.raises(ConfigError, match="lack columns"):
        encode(pd.DataFrame({"lr": [0.1]}), params)
    with pytest.raises(ConfigError, match="not in the space"):
        params_of_space(space, ["lr", "missing"])


def test_public_names_exist():
    import metakb.importance as importance

    for name in importance.__all__:
        assert hasattr(importance, name), name
