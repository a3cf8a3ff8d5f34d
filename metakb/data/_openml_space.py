"""A ConfigSpace search space derived from the setups of one OpenML flow.

OpenML records, for every run, the value of each of the flow's parameters (the *setup*), as
text: JSON for scikit-learn flows (``"0.1"``, ``"\\"gini\\""``, ``"null"``), plain strings for
Weka and others. A flow has no declared ranges, so the space is derived from the values seen:

* every value a number (integers, not booleans): an integer hyperparameter over
  ``[min, max]``; any float among them: a float hyperparameter, on a log scale when all are
  positive and ``max / min >= 100``;
* otherwise (strings, booleans, null, mixtures, nested JSON): a categorical hyperparameter whose
  choices are the canonical JSON text of each value seen;
* a parameter with one value seen: a constant.

The space's version is a hash of its definition, so a later import that sees other values gets
a new version rather than silently changing an old one.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ConfigSpace import Categorical, Configuration, ConfigurationSpace, Constant, Float, Integer

from metakb._convert import sha256_text
from metakb.data._openml_client import SetupParameter, parse_value
from metakb.errors import DataError

__all__ = ["derive_flow_space", "space_json"]


def _names(setups: Mapping[int, Sequence[SetupParameter]]) -> dict[str, str]:
    """Map each full parameter name to its short name where the short name is unambiguous."""
    full_to_short: dict[str, str] = {}
    for params in setups.values():
        for p in params:
            full_to_short[p.full_name] = p.parameter_name
    counts: dict[str, int] = {}
    for short in full_to_short.values():
        counts[short] = counts.get(short, 0) + 1
    return {full: (short if counts[short] == 1 else full) for full, short in full_to_short.items()}


def _value_of(p: SetupParameter) -> Any:
    return parse_value(p.value if p.value is not None else p.default_value)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(float(v))


def _hyperparameter(name: str, values: list[Any]) -> tuple[Any, str]:
    """The hyperparameter for ``values`` and its kind (``int``, ``float``, ``cat``, ``const``)."""
    distinct = {json.dumps(v, sort_keys=True) for v in values}
    if len(distinct) == 1:
        v = values[0]
        return Constant(name, v if (_is_number(v) or isinstance(v, str)) else json.dumps(v)), "const"
    if all(_is_int(v) for v in values):
        return Integer(name, (min(values), max(values))), "int"
    if all(_is_number(v) for v in values):
        low, high = float(min(values)), float(max(values))
        log = low > 0 and high / low >= 100
        return Float(name, (low, high), log=log), "float"
    return Categorical(name, sorted(distinct)), "cat"


def _encode(value: Any, kind: str, hp: Any) -> Any:
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "cat":
        return json.dumps(value, sort_keys=True)
    return hp.value


def derive_flow_space(flow_id: int, setups: Mapping[int, Sequence[SetupParameter]]
                      ) -> tuple[ConfigurationSpace, dict[int, dict[str, Any]]]:
    """The space of a flow and each setup's configuration in it.

    Args:
        flow_id: the OpenML flow id (names the space ``openml-flow-<id>``).
        setups: setup id -> its parameter settings.

    Returns:
        The space and ``{setup_id: configuration}`` (every configuration valid in the space).

    Raises:
        DataError: no setups, or setups without any parameter.
    """
    if not setups:
        raise DataError(f"flow {flow_id} has no setups to derive a search space from")
    names = _names(setups)
    if not names:
        raise DataError(f"the setups of flow {flow_id} have no parameters; nothing to import")
    values: dict[str, dict[int, Any]] = {name: {} for name in sorted(names.values())}
    defaults: dict[str, Any] = {}
    for setup_id, params in setups.items():
        for p in params:
            values[names[p.full_name]][setup_id] = _value_of(p)
            defaults.setdefault(names[p.full_name], parse_value(p.default_value))
    for name, by_setup in values.items():  # a setup without a parameter ran at its default
        for setup_id in setups:
            by_setup.setdefault(setup_id, defaults.get(name))
    space = ConfigurationSpace(name=f"openml-flow-{flow_id}")
    kinds: dict[str, str] = {}
    for name, by_setup in values.items():
        hp, kind = _hyperparameter(name, list(by_setup.values()))
        space.add(hp)
        kinds[name] = kind
    configs: dict[int, dict[str, Any]] = {}
    for setup_id in sorted(setups):
        config = {name: _encode(by_setup[setup_id], kinds[name], space[name])
                  for name, by_setup in values.items() if setup_id in by_setup}
        Configuration(space, values=config).check_valid_configuration()
        configs[setup_id] = config
    return space, configs


def space_json(space: ConfigurationSpace) -> tuple[str, str]:
    """The space's ConfigSpace JSON and a version derived from it (12 hex digits)."""
    buffer = io.StringIO()
    space.to_json(buffer)
    text = buffer.getvalue()
    return text, sha256_text(text)[:12]
