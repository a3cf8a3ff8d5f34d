"""Parameter validation (#19 item 5): the declarative tables of metakb.params and their message.

Each constraint of a class's ``_parameter_constraints`` is exercised: a value of the wrong type
and a value outside the range are refused with scikit-learn's wording, before any state is built.
"""

from __future__ import annotations

import numbers

import ConfigSpace as CS
import pytest

from metakb.errors import ConfigError
from metakb.optimizers import BOHB
from metakb.params import Interval, Options, StrOptions, validate_params


class _Toy:
    _parameter_constraints = {
        "n": [Interval(numbers.Integral, 2, None, closed="left")],
        "rate": [None, Interval(numbers.Real, 0, 1, closed="right")],
        "mode": [StrOptions({"a", "b"})],
        "flag": ["boolean"],
    }

    def __init__(self, n=2, rate=None, mode="a", flag=False):
        self.n, self.rate, self.mode, self.flag = n, rate, mode, flag


def test_interval_bounds_and_types():
    closed_left = Interval(numbers.Integral, 2, None, closed="left")
    assert closed_left.is_satisfied_by(2) and closed_left.is_satisfied_by(10**9)
    assert not closed_left.is_satisfied_by(1) and not closed_left.is_satisfied_by(2.0)
    assert not closed_left.is_satisfied_by(True)  # a bool is not a number here
    half_open = Interval(numbers.Real, 0, 1, closed="right")
    assert half_open.is_satisfied_by(1) and half_open.is_satisfied_by(0.5)
    assert not half_open.is_satisfied_by(0) and not half_open.is_satisfied_by(float("nan"))
    assert str(closed_left) == "an int in the range [2, inf)"
    assert str(half_open) == "a float in the range (0, 1]"
    assert Options({1, 2}).is_satisfied_by(2) and not Options({1, 2}).is_satisfied_by([1])


@pytest.mark.parametrize(("param", "value", "message"), [
    ("n", "3", "The 'n' parameter of _Toy must be an int in the range [2, inf). Got '3' instead."),
    ("n", 1, "The 'n' parameter of _Toy must be an int in the range [2, inf). Got 1 instead."),
    ("rate", 0, "The 'rate' parameter of _Toy must be None or a float in the range (0, 1]. Got 0 instead."),
    ("mode", "c", "The 'mode' parameter of _Toy must be a str among {'a', 'b'}. Got 'c' instead."),
    ("flag", 1, "The 'flag' parameter of _Toy must be an instance of 'bool'. Got 1 instead."),
])
def test_validator_writes_scikit_learns_message(param, value, message):
    validate_params(_Toy())  # the defaults pass
    with pytest.raises(ConfigError) as err:
        validate_params(_Toy(**{param: value}))
    assert str(err.value) == message


@pytest.fixture()
def box() -> CS.ConfigurationSpace:
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def test_bohb_eta_as_a_string_is_a_config_error(box):
    with pytest.raises(ConfigError) as err:  # before: a raw TypeError from `"3" > 1`
        BOHB(box, 1, 9, eta="3")
    assert str(err.value) == ("The 'eta' parameter of BOHB must be a float in the range (1, inf). "
                              "Got '3' instead.")


def _bad_values(constraints):
    """One value outside each accepted constraint: a wrong type, and for a bounded interval a
    number beyond its bound."""
    yield "not-a-valid-value-%%"
    for c in constraints:
        if isinstance(c, Interval):
            if c.left is not None:
                yield c.left - 1
            if c.right is not None:
                yield c.right + 1


@pytest.mark.parametrize("param", sorted(BOHB._parameter_constraints))
def test_bohb_refuses_each_constraint(box, param):
    args = {"min_budget": 1, "max_budget": 9}
    for bad in _bad_values(BOHB._parameter_constraints[param]):
        if any(c is None for c in BOHB._parameter_constraints[param]) and bad is None:
            continue
        with pytest.raises(ConfigError, match=f"The '{param}' parameter of BOHB must be"):
            kwargs = {**args, param: bad}
            BOHB(box, kwargs.pop("min_budget"), kwargs.pop("max_budget"), **kwargs)


@pytest.mark.parametrize("seed", ["0", -1, 1.5])
def test_optimizers_refuse_a_bad_seed(box, seed):
    from metakb.optimizers import RandomSearch

    for make in (lambda: BOHB(box, 1, 9, seed=seed), lambda: RandomSearch(box, seed=seed)):
        with pytest.raises(ConfigError, match="The 'seed' parameter of (BOHB|RandomSearch) must be None or an int"):
            make()


def test_reptile_refuses_negative_inner_steps():
    pytest.importorskip("torch")
    from nas_meta.learners import FOMAML, Reptile

    with pytest.raises(ConfigError) as err:
        Reptile(inner_steps=-3)
    assert str(err.value) == ("The 'inner_steps' parameter of Reptile must be an int in the range "
                              "[0, inf). Got -3 instead.")
    with pytest.raises(ConfigError, match="The 'meta_lr' parameter of FOMAML must be"):
        FOMAML(meta_lr=0)
    assert Reptile(inner_steps=0).inner_steps == 0  # zero steps is a valid ablation
