"""Common contract tests (#19 item 5), parametrised over every member of every registry.

The registries are read when the tests are collected, so a newly registered optimizer, warm
starter, importance evaluator or portfolio method is tested here without a new line; a member
the recipes below cannot build fails loudly (it needs a line in ``_FAST`` or ``_REQUIRED``),
never silently drops out. The contracts:

(a) parameters: ``get_params`` / ``set_params`` / ``sklearn.base.clone`` round trip, where the
    family follows scikit-learn's convention (every constructor parameter stored as is);
(b) seeds: two instances with the same seed give the same output on the same tiny input;
(c) state: a saved state (``state()`` / ``restore``, ``get_state`` / ``from_state``) gives back
    an instance that answers as the original does;
(d) rejected parameters: every parameter of the declared ``_parameter_constraints`` table
    refuses a value of a foreign type and every bound refuses a value beyond it, with
    scikit-learn's wording; the table names every constructor parameter;
(e) unfitted: asking before ``fit`` is a clear error.

Where a family has nothing to test for a contract the test is an explicit skip with the reason.
The nas_meta learners have their own file (``tests/nas_meta/test_contracts_common.py``).
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import ConfigSpace as CS
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from metakb.errors import ConfigError, NotFoundError
from metakb.importance import IMPORTANCE_EVALUATORS
from metakb.optimizers import OPTIMIZERS, restore
from metakb.params import Interval, StrOptions, validate_params
from metakb.warmstart import WARM_STARTERS
from portfolios import PORTFOLIO_METHODS, GreedyPortfolio

SKLEARN_WORDING = r"The '.+' parameter of \w+ must be .+\. Got .+ instead\."


class _Foreign:
    """A value of a type no parameter accepts."""

    def __repr__(self) -> str:
        return "<foreign object>"


FOREIGN = _Foreign()

# ---------------------------------------------------------------------------- tiny inputs
SPACE = CS.ConfigurationSpace({"x": (0.0, 1.0), "y": (1, 10), "kind": ["a", "b"]}, seed=0)


def _warm_kb() -> tuple[pd.DataFrame, pd.DataFrame]:
    """12 datasets, 3 meta-features, 8 configurations whose scores follow the meta-features."""
    rng = np.random.default_rng(0)
    mf = pd.DataFrame(rng.normal(size=(12, 3)), index=[f"d{i}" for i in range(12)], columns=["m0", "m1", "m2"])
    perf = pd.DataFrame(mf.to_numpy() @ rng.normal(size=(3, 8)) + 0.1 * rng.normal(size=(12, 8)),
                        index=mf.index, columns=range(1, 9))
    perf.iloc[0, 7] = np.nan  # a failed evaluation
    return mf, perf


def _importance_table() -> tuple[pd.DataFrame, pd.DataFrame, CS.ConfigurationSpace]:
    rng = np.random.default_rng(0)
    space = CS.ConfigurationSpace({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": ["u", "v"]})
    configs = pd.DataFrame({"a": rng.uniform(size=40), "b": rng.uniform(size=40),
                            "c": rng.choice(["u", "v"], size=40)})
    base = 3 * configs["a"] + configs["b"] + (configs["c"] == "u")
    perf = pd.DataFrame([base + 0.1 * rng.normal(size=40), base ** 2], index=["one", "two"])
    return configs, perf, space


def _portfolio_matrix() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    perf = pd.DataFrame(rng.uniform(size=(8, 6)), index=[f"d{i}" for i in range(8)],
                        columns=[f"c{j}" for j in range(6)])
    perf.attrs["higher_is_better"] = True
    return perf


MF, PERF = _warm_kb()
QUERY = MF.iloc[0] + 0.05
CONFIGS, IMP_PERF, IMP_SPACE = _importance_table()
PORTFOLIO_PERF = _portfolio_matrix()

#: Settings that keep a member fast on the tiny inputs (members not named use their defaults).
_FAST: dict[str, dict[str, Any]] = {
    "rf-model": {"n_estimators": 8},
    "pairwise-model": {"max_iter": 8, "n_pairs": 16},
    "cf": {"n_iter": 5},
    "rf-selector": {"n_estimators": 4},
    "siamese": {"epochs": 3, "hidden": (8,), "embedding_dim": 2, "batch_size": 16},
    "fanova": {"n_trees": 4, "marginal_points": 5},
    "tunability": {"n_trees": 4, "grid_size": 4, "pair_grid_size": 3},
}
#: Values of the constructor parameters an optimizer cannot do without.
_REQUIRED: dict[str, Any] = {"configspace": SPACE, "min_budget": 1, "max_budget": 9}


def _needs_torch(name: str) -> None:
    if name == "siamese":
        pytest.importorskip("torch")


# ---------------------------------------------------------------------------- families
def _make_optimizer(name: str, **params: Any) -> Any:
    cls = OPTIMIZERS[name]
    kwargs = {}
    for p in list(inspect.signature(cls).parameters.values()):
        if p.default is inspect.Parameter.empty and p.name not in params:
            if p.name not in _REQUIRED:
                pytest.fail(f"optimizer {name} needs {p.name!r}: add a value to _REQUIRED")
            kwargs[p.name] = _REQUIRED[p.name]
    return cls(**{**kwargs, **params})


def _make_warm(name: str, **params: Any) -> Any:
    return WARM_STARTERS[name](**{**_FAST.get(name, {}), **params})


def _make_importance(name: str, **params: Any) -> Any:
    return IMPORTANCE_EVALUATORS[name](**{**_FAST.get(name, {}), **params})


def _optimizer_table(name: str) -> dict[str, list[Any]]:
    cls = OPTIMIZERS[name]
    return {**getattr(cls, "_space_constraints", {}), **getattr(cls, "_seed_constraints", {}),
            **cls._parameter_constraints}


def _portfolio_members() -> list[tuple[str, Any]]:
    """The registered methods, and the class form of the greedy method."""
    return [*PORTFOLIO_METHODS.items(), ("GreedyPortfolio", GreedyPortfolio)]


def _table(member: Any) -> dict[str, list[Any]]:
    table = vars(member).get("_parameter_constraints") if inspect.isfunction(member) else \
        getattr(member, "_parameter_constraints", None)
    if not table:
        pytest.fail(f"{member.__name__} declares no _parameter_constraints table")
    return dict(table)


def _run_portfolio(member: Any, **params: Any) -> Any:
    """The portfolio of a builder function or of the GreedyPortfolio estimator."""
    if inspect.isclass(member):
        return member(**{"size": 3, **params}).fit(PORTFOLIO_PERF).portfolio_
    return member(PORTFOLIO_PERF, 3, **params)


OPTIMIZER_NAMES = OPTIMIZERS.names()
WARM_NAMES = WARM_STARTERS.names()
IMPORTANCE_NAMES = IMPORTANCE_EVALUATORS.names()
PORTFOLIO_NAMES = [name for name, _ in _portfolio_members()]
PORTFOLIO = dict(_portfolio_members())


# ---------------------------------------------------------------------------- bad values
def _satisfied(constraints: list[Any], value: Any) -> bool:
    try:
        validate_params({"p": value}, {"p": constraints}, owner="probe", get=lambda d, k: d[k])
    except ConfigError:
        return False
    return True


def _bad_values(constraints: list[Any]) -> list[tuple[str, Any]]:
    """``(kind, value)``: values of a foreign type, values beyond each bound of an interval, and
    an unknown string for a set of strings -- each only when no constraint accepts it."""
    found: list[tuple[str, Any]] = [("type", v) for v in ("not-a-valid-value-%%", FOREIGN)]
    for c in constraints:
        if isinstance(c, Interval):
            if c.left is not None:
                found.append(("range", c.left - 1))
            if c.right is not None:
                found.append(("range", c.right + 1))
        elif isinstance(c, StrOptions):
            found.append(("range", "not-an-option"))
    return [(kind, v) for kind, v in found if not _satisfied(constraints, v)]


def _bad_cases(tables: dict[str, dict[str, list[Any]]]) -> list[Any]:
    cases = []
    for member, table in tables.items():
        for param, constraints in table.items():
            for kind, value in _bad_values(constraints):
                cases.append(pytest.param(member, param, value, id=f"{member}-{param}-{kind}-{value!r}"))
    return cases


def _check_refusal(err: pytest.ExceptionInfo[ConfigError], param: str) -> None:
    message = str(err.value)
    assert re.fullmatch(SKLEARN_WORDING, message), message
    assert message.startswith(f"The {param!r} parameter of "), message


def _every_kind_is_covered(table: dict[str, list[Any]]) -> set[str]:
    return {kind for constraints in table.values() for kind, _ in _bad_values(constraints)}


# ============================================================================ optimizers
def _drive(opt: Any, n: int) -> list[tuple[dict[str, Any], float]]:
    """``n`` suggestions, each observed with a deterministic loss."""
    out = []
    for _ in range(n):
        trial = opt.suggest()
        out.append((trial.config, trial.budget))
        opt.observe(trial.trial_id, (trial.config["x"] - 0.3) ** 2 + trial.config["y"] / 100)
    return out


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_parameters_round_trip(name):
    pytest.skip("an optimizer is no scikit-learn estimator: its constructor derives its state (the "
                "space's encoding, the budgets, the prior's densities) and copies initial_configs and "
                "prior_observations; its settings round-trip through state()/restore() (the state test)")


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_seed_reproducibility(name):
    one, two = _make_optimizer(name, seed=3), _make_optimizer(name, seed=3)
    assert _drive(one, 12) == _drive(two, 12)
    assert _drive(_make_optimizer(name, seed=4), 12) != _drive(_make_optimizer(name, seed=3), 12)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_state_round_trip(name):
    opt = _make_optimizer(name, seed=0)
    _drive(opt, 5)
    in_flight = opt.suggest()  # handed out again first after the restore
    state = json.loads(json.dumps(opt.state().to_dict()))
    back = restore(state)
    assert type(back) is type(opt) and back.history == opt.history
    again = back.suggest()
    assert (again.trial_id, again.config, again.budget) == (in_flight.trial_id, in_flight.config, in_flight.budget)
    opt.observe(in_flight.trial_id, 0.5)
    back.observe(again.trial_id, 0.5)
    assert _drive(back, 6) == _drive(opt, 6)


@pytest.mark.parametrize(("name", "param", "value"),
                         _bad_cases({n: _optimizer_table(n) for n in OPTIMIZER_NAMES}))
def test_optimizer_refuses_bad_parameters(name, param, value):
    with pytest.raises(ConfigError) as err:
        _make_optimizer(name, **{param: value})  # an optimizer checks its table in its constructor
    _check_refusal(err, param)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_table_names_every_parameter(name):
    table = _optimizer_table(name)
    assert set(table) == set(inspect.signature(OPTIMIZERS[name]).parameters)
    assert _every_kind_is_covered(table) == {"type", "range"}


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_unfitted_error(name):
    # No fit step: the constructor sets an optimizer up and suggest() is valid at once. The
    # call that is an error before setup is observing a trial never handed out.
    opt = _make_optimizer(name, seed=0)
    with pytest.raises(NotFoundError, match="not in flight"):
        opt.observe(0, 0.5)
    assert opt.suggest().trial_id == 0


# ============================================================================ warm starters
def _recommendations(ws: Any) -> list[tuple[int, int, float | None]]:
    return [(r.configuration_id, r.rank, r.predicted_score) for r in ws.recommend(QUERY, n_configs=5)]


@pytest.mark.parametrize("name", WARM_NAMES)
def test_warm_starter_parameters_round_trip(name):
    ws = _make_warm(name)
    params = ws.get_params()
    assert set(params) == set(inspect.signature(type(ws)).parameters)
    copy = clone(ws)
    assert type(copy) is type(ws) and copy is not ws and copy.get_params() == params
    assert ws.set_params(**params) is ws and ws.get_params() == params
    with pytest.raises(ConfigError, match="no parameter 'nope'"):
        ws.set_params(nope=1)


@pytest.mark.parametrize("name", WARM_NAMES)
def test_warm_starter_seed_reproducibility(name):
    _needs_torch(name)
    seeded = {"seed": 5} if "seed" in inspect.signature(WARM_STARTERS[name]).parameters else {}
    one = _make_warm(name, **seeded).fit(MF, PERF)
    two = _make_warm(name, **seeded).fit(MF, PERF)
    assert _recommendations(one) == _recommendations(two)
    assert len(_recommendations(one)) == 5


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


@pytest.mark.parametrize("name", WARM_NAMES)
def test_warm_starter_state_round_trip(name):
    cls = WARM_STARTERS[name]
    if not (hasattr(cls, "get_state") and hasattr(cls, "from_state")):
        pytest.skip(f"{cls.__name__} has no save/load (get_state/from_state, to_dict/from_dict or "
                    "state_dict): it is refitted from the knowledge base")
    _needs_torch(name)
    ws = _make_warm(name).fit(MF, PERF)
    state, settings = json.loads(json.dumps(ws.get_state()))
    back = cls.from_state(state, settings)
    if hasattr(back, "attach"):  # a learned embedding: the known datasets are embedded again
        back = back.attach(MF, PERF)
    assert _plain(back.get_params()) == _plain(ws.get_params())  # JSON keeps tuples as lists
    assert _recommendations(back) == _recommendations(ws)


@pytest.mark.parametrize(("name", "param", "value"),
                         _bad_cases({n: _table(WARM_STARTERS[n]) for n in WARM_NAMES}))
def test_warm_starter_refuses_bad_parameters(name, param, value):
    ws = _make_warm(name, **{param: value})  # __init__ only stores ...
    assert getattr(ws, param) is value
    with pytest.raises(ConfigError) as err:  # ... fit checks
        ws.fit(MF, PERF)
    _check_refusal(err, param)


@pytest.mark.parametrize("name", WARM_NAMES)
def test_warm_starter_table_names_every_parameter(name):
    table = _table(WARM_STARTERS[name])
    assert set(table) == set(inspect.signature(WARM_STARTERS[name]).parameters)
    assert _every_kind_is_covered(table) == {"type", "range"}


@pytest.mark.parametrize("name", WARM_NAMES)
def test_warm_starter_unfitted_error(name):
    with pytest.raises(ConfigError, match="not fitted yet; call fit"):
        _make_warm(name).recommend(QUERY, n_configs=3)


# ============================================================================ importance
def _importances(evaluator: Any) -> pd.DataFrame:
    return evaluator.evaluate(CONFIGS, IMP_PERF, IMP_SPACE).per_dataset


@pytest.mark.parametrize("name", IMPORTANCE_NAMES)
def test_importance_parameters_round_trip(name):
    evaluator = _make_importance(name)
    params = evaluator.get_params()
    assert set(params) == set(inspect.signature(type(evaluator)).parameters)
    copy = clone(evaluator)
    assert type(copy) is type(evaluator) and copy is not evaluator and copy.get_params() == params
    assert evaluator.set_params(seed=7) is evaluator and evaluator.seed == 7
    with pytest.raises(ConfigError, match="no parameter 'nope'"):
        evaluator.set_params(nope=1)


@pytest.mark.parametrize("name", IMPORTANCE_NAMES)
def test_importance_seed_reproducibility(name):
    one = _importances(_make_importance(name, seed=11))
    two = _importances(_make_importance(name, seed=11))
    pd.testing.assert_frame_equal(one, two)
    assert list(one.index) == ["one", "two"] and np.isfinite(one.to_numpy()).all()


@pytest.mark.parametrize("name", IMPORTANCE_NAMES)
def test_importance_state_round_trip(name):
    pytest.skip(f"{IMPORTANCE_EVALUATORS[name].__name__} keeps no state between calls: evaluate() "
                "computes everything and returns an ImportanceResult (to_dict only, for the report)")


@pytest.mark.parametrize(("name", "param", "value"),
                         _bad_cases({n: _table(IMPORTANCE_EVALUATORS[n]) for n in IMPORTANCE_NAMES}))
def test_importance_refuses_bad_parameters(name, param, value):
    evaluator = _make_importance(name, **{param: value})  # __init__ only stores ...
    with pytest.raises(ConfigError) as err:  # ... evaluate checks
        evaluator.evaluate(CONFIGS, IMP_PERF, IMP_SPACE)
    _check_refusal(err, param)


@pytest.mark.parametrize("name", IMPORTANCE_NAMES)
def test_importance_table_names_every_parameter(name):
    table = _table(IMPORTANCE_EVALUATORS[name])
    assert set(table) == set(inspect.signature(IMPORTANCE_EVALUATORS[name]).parameters)
    assert _every_kind_is_covered(table) == {"type", "range"}


@pytest.mark.parametrize("name", IMPORTANCE_NAMES)
def test_importance_unfitted_error(name):
    pytest.skip(f"{IMPORTANCE_EVALUATORS[name].__name__} has no fit step: evaluate() takes the table "
                "and answers at once")


# ============================================================================ portfolios
def _keywords(member: Any) -> set[str]:
    """The parameters a table declares: a class's constructor parameters, or a builder
    function's keyword arguments (the positional matrix and size are checked against each
    other by check_size, with its own message)."""
    parameters = inspect.signature(member).parameters.values()
    if inspect.isclass(member):
        return {p.name for p in parameters}
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize("name", PORTFOLIO_NAMES)
def test_portfolio_parameters_round_trip(name):
    member = PORTFOLIO[name]
    if not inspect.isclass(member):
        pytest.skip(f"{member.__name__} is a function: no parameters are stored to get or set (its "
                    "keyword arguments are checked by the refusal tests)")
    estimator = member(size=2, seed=1)
    params = estimator.get_params()
    assert set(params) == _keywords(member)
    copy = clone(estimator)
    assert type(copy) is member and copy.get_params() == params
    assert estimator.set_params(size=3) is estimator and estimator.size == 3
    with pytest.raises(ConfigError, match="no parameter 'nope'"):
        estimator.set_params(nope=1)


@pytest.mark.parametrize("name", PORTFOLIO_NAMES)
def test_portfolio_seed_reproducibility(name):
    member = PORTFOLIO[name]
    params: dict[str, Any] = {"seed": 4} if "seed" in inspect.signature(member).parameters else {}
    if "validation" in inspect.signature(member).parameters:
        params["validation"] = 0.25  # the seed draws the validation datasets
    one, two = _run_portfolio(member, **params), _run_portfolio(member, **params)
    assert one.members == two.members and one.objective == two.objective
    assert one.validation_datasets == two.validation_datasets and len(one.members) >= 1


@pytest.mark.parametrize("name", PORTFOLIO_NAMES)
def test_portfolio_state_round_trip(name):
    if inspect.isclass(PORTFOLIO[name]):
        pytest.skip(f"{name} has no save/load: its fitted portfolio_ is a Portfolio, which has "
                    "to_dict (for the store) but no from_dict")
    pytest.skip(f"{name} is a function and keeps no state: it returns a Portfolio, which has to_dict "
                "(for the store) but no from_dict")


@pytest.mark.parametrize(("name", "param", "value"),
                         _bad_cases({n: _table(m) for n, m in _portfolio_members()}))
def test_portfolio_refuses_bad_parameters(name, param, value):
    with pytest.raises(ConfigError) as err:
        _run_portfolio(PORTFOLIO[name], **{param: value})
    _check_refusal(err, param)


@pytest.mark.parametrize("name", PORTFOLIO_NAMES)
def test_portfolio_table_names_every_parameter(name):
    table = _table(PORTFOLIO[name])
    assert set(table) == _keywords(PORTFOLIO[name])
    assert _every_kind_is_covered(table) == {"type", "range"}


@pytest.mark.parametrize("name", PORTFOLIO_NAMES)
def test_portfolio_unfitted_error(name):
    if inspect.isclass(PORTFOLIO[name]):
        pytest.skip(f"{name} has no predict to call before fit: its portfolio_ and members_ exist "
                    "only after fit (scikit-learn's learned attributes)")
    pytest.skip(f"{name} is a function with no fit step: it builds the portfolio at once")


def test_the_registries_are_read():
    """The parametrisations above come from the registries (a new member is tested)."""
    assert {"BOHB", "RandomSearch"} <= set(OPTIMIZER_NAMES)
    assert {"knn", "knn-best", "rf-model", "pairwise-model", "cf", "rf-selector", "siamese"} <= set(WARM_NAMES)
    assert {"fanova", "tunability"} <= set(IMPORTANCE_NAMES)
    assert {"greedy", "per-dataset-best", "top-average-rank", "random"} <= set(PORTFOLIO_NAMES)
