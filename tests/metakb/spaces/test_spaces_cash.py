"""The ``sklearn-cash`` space: defaults, sampling, validation, and pipelines on real data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from metakb.errors import ConfigError, SpaceError
from metakb.spaces import (
    SPACES,
    get_search_space,
    make_pipeline,
    sample_configurations,
    space_from_json,
    space_to_json,
    validate_configuration,
)

SPEC = get_search_space("sklearn-cash")
DEFAULTS = SPEC.defaults()
REFERENCE = {
    "hist_gradient_boosting": HistGradientBoostingClassifier,
    "random_forest": RandomForestClassifier,
    "extra_trees": ExtraTreesClassifier,
    "logistic_regression": LogisticRegression,
    "svc": SVC,
    "k_neighbors": KNeighborsClassifier,
    "mlp": MLPClassifier,
}
# Parameters where the space deliberately departs from scikit-learn's defaults (seeding,
# one thread per worker, a log-scale stand-in for 0, no inner validation split).
ALLOWED_DIFFERENCES = {"random_state", "n_jobs", "cache_size", "early_stopping", "l2_regularization"}


@pytest.fixture(autouse=True)
def _one_thread():
    """One BLAS/OpenMP thread, as in the evaluation workers (OpenMP spinning on a busy machine is slow)."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def space():
    return SPEC.build()


@pytest.fixture(scope="module")
def mushroom(pmlb_dir):
    """200 rows of mushroom (17 categorical features) with missing values planted."""
    from metakb.data import load_pmlb

    table = load_pmlb(pmlb_dir / "mushroom")
    rng = np.random.default_rng(0)
    keep = rng.choice(table.n_rows, 200, replace=False)
    X = table.X.iloc[keep].reset_index(drop=True)
    numeric = [c for c, cat in zip(X.columns, table.categorical, strict=True) if not cat][0]
    categorical = [c for c, cat in zip(X.columns, table.categorical, strict=True) if cat][0]
    X.loc[::7, numeric] = np.nan
    X.loc[::5, categorical] = np.nan
    return X, table.y[keep], table.categorical


def test_registry_and_unknown_space():
    assert "sklearn-cash" in SPACES and SPEC.name == "sklearn-cash" and SPEC.version
    with pytest.raises(SpaceError, match=r"unknown search space 'nope'; expected one of \['sklearn-cash'"):
        get_search_space("nope")


def test_space_has_the_seven_classifiers_and_preprocessing(space):
    assert sorted(space["classifier"].choices) == sorted(REFERENCE)
    for name in ("numeric_imputer", "scaler", "categorical_encoding"):
        assert name in space
    # every model hyperparameter is active only under its classifier
    for name in space:
        if ":" in name and name != "svc:gamma":
            (condition,) = space.parent_conditions_of[name]
            assert condition.parent.name == "classifier" and condition.value == name.split(":")[0]


def test_space_json_round_trip(space):
    text = space_to_json(space)
    assert space_from_json(text) == space
    assert space_to_json(space_from_json(text)) == text


@pytest.mark.parametrize("model", sorted(REFERENCE))
def test_model_default_validates_and_matches_scikit_learn(space, model):
    config = DEFAULTS[model]
    assert validate_configuration(space, config) == config
    built = make_pipeline(config, [False, True]).named_steps["classifier"]
    assert isinstance(built, REFERENCE[model])
    ours, reference = built.get_params(), REFERENCE[model]().get_params()
    different = {k for k in reference if ours[k] != reference[k]} - ALLOWED_DIFFERENCES
    assert not different, {k: (ours[k], reference[k]) for k in different}
    assert config["numeric_imputer"] == "mean" and config["scaler"] == "standard"
    assert config["categorical_encoding"] == "one_hot"


@pytest.mark.parametrize("model", sorted(REFERENCE))
def test_model_default_fits_real_data_with_missing_values(mushroom, model):
    X, y, categorical = mushroom
    train, test = np.arange(0, 150), np.arange(150, 200)
    pipeline = make_pipeline(DEFAULTS[model], categorical, seed=0, n_rows=len(train))
    pipeline.fit(X.iloc[train], y[train])
    predicted = pipeline.predict(X.iloc[test])
    assert set(predicted) <= set(y)
    # mushroom is nearly separable: every default model does far better than chance
    assert balanced_accuracy_score(y[test], predicted) > 0.85


def test_pipeline_is_deterministic_with_its_seed(mushroom):
    X, y, categorical = mushroom
    config = DEFAULTS["random_forest"]
    a = make_pipeline(config, categorical, seed=3).fit(X, y).predict_proba(X)
    b = make_pipeline(config, categorical, seed=3).fit(X, y).predict_proba(X)
    assert np.array_equal(a, b)


def test_iteration_fraction_and_row_caps():
    rf = make_pipeline(DEFAULTS["random_forest"], [False], iteration_fraction=0.25).named_steps["classifier"]
    assert rf.n_estimators == 25
    hgb = make_pipeline(DEFAULTS["hist_gradient_boosting"], [False], iteration_fraction=0.5).named_steps["classifier"]
    assert hgb.max_iter == 50
    mlp = make_pipeline(DEFAULTS["mlp"], [False], iteration_fraction=0.1).named_steps["classifier"]
    assert mlp.max_iter == 20
    knn = make_pipeline({**DEFAULTS["k_neighbors"], "k_neighbors:n_neighbors": 50}, [False], n_rows=10)
    assert knn.named_steps["classifier"].n_neighbors == 9
    for bad in (0.0, 1.5):
        with pytest.raises(SpaceError, match="iteration_fraction"):
            make_pipeline(DEFAULTS["svc"], [False], iteration_fraction=bad)


def test_pipeline_refuses_unknown_classifier_and_missing_hyperparameter():
    with pytest.raises(SpaceError, match="'xgboost'"):
        make_pipeline({**DEFAULTS["svc"], "classifier": "xgboost"}, [False])
    config = dict(DEFAULTS["svc"])
    del config["svc:C"]
    with pytest.raises(SpaceError, match="svc:C"):
        make_pipeline(config, [False])


def test_sampling_is_reproducible_and_valid(space):
    first = sample_configurations(SPEC.build(), 20, seed=7)
    again = sample_configurations(SPEC.build(), 20, seed=7)
    other = sample_configurations(SPEC.build(), 20, seed=8)
    assert first == again
    assert first != other
    assert len({repr(sorted(c.items())) for c in first}) == 20
    for config in first:
        assert validate_configuration(space, config) == config
        assert all(isinstance(v, (int, float, str)) for v in config.values())  # plain JSON values
    assert sample_configurations(space, 0, seed=1) == []
    with pytest.raises(ConfigError, match="-1"):
        sample_configurations(space, -1, seed=1)


def test_sampling_does_not_depend_on_the_space_objects_history(space):
    fresh = SPEC.build()
    fresh.sample_configuration()  # advance its generator
    assert sample_configurations(fresh, 5, seed=11) == sample_configurations(SPEC.build(), 5, seed=11)


# ---------------------------------------------------------------------- invalid configurations
def _svc(**changes: object) -> dict[str, object]:
    config = dict(DEFAULTS["svc"])
    config.update(changes)
    return {k: v for k, v in config.items() if v is not None}


INVALID = {
    "unknown key": (_svc(**{"svc:degree": 3}), r"unknown hyperparameters \['svc:degree'\]"),
    "missing active key": (_svc(**{"svc:C": None}), r"lacks active hyperparameters \['svc:C'\]"),
    "missing conditional key": (_svc(**{"svc:gamma_mode": "value"}), r"lacks active hyperparameters \['svc:gamma'\]"),
    "out of range": (_svc(**{"svc:C": 1e9}), "not valid"),
    "below range": (_svc(**{"svc:C": -1.0}), "not valid"),
    "unknown choice": (_svc(scaler="zscore"), "not valid"),
    "unknown classifier": (_svc(classifier="xgboost"), "not valid|lacks"),
    "inactive key": (_svc(**{"random_forest:n_estimators": 100}), "not valid|inactive"),
    "inactive conditional key": (_svc(**{"svc:gamma": 0.5}), "not valid|inactive"),
    "wrong type": (_svc(**{"svc:C": "large"}), "not valid"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_configuration_is_a_config_error(space, case):
    config, message = INVALID[case]
    with pytest.raises(ConfigError, match=message) as info:
        validate_configuration(space, config)
    assert "\n" not in str(info.value)


def test_a_configuration_must_be_a_mapping(space):
    with pytest.raises(ConfigError, match="JSON object"):
        validate_configuration(space, ["svc"])  # type: ignore[arg-type]


def test_valid_conditional_configuration_is_accepted(space):
    config = _svc(**{"svc:gamma_mode": "value", "svc:gamma": 0.5})
    assert validate_configuration(space, config) == config
