"""Export a portfolio's configurations for the optimisers that can start from them.

* ``json``: the plain configurations (active hyperparameter values) in portfolio order.
* ``optuna``: one keyword dict per configuration for ``study.enqueue_trial(**item)``; Optuna
  then evaluates them first, in order (its documented way to warm-start a study).
* ``smac``: the space (ConfigSpace's JSON) and the configurations as an initial design;
  :func:`load_smac_initial_design` turns it into ``ConfigSpace.Configuration`` objects, the
  ``additional_configs`` that SMAC's initial designs accept.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from metakb.errors import ConfigError

__all__ = ["EXPORT_FORMATS", "export_portfolio", "load_smac_initial_design"]

EXPORT_FORMATS = ("json", "optuna", "smac")


def export_portfolio(configs: Sequence[Mapping[str, Any]], fmt: str, *, name: str = "portfolio",
                     configspace_json: str | None = None) -> Any:
    """A portfolio's configurations in one of :data:`EXPORT_FORMATS` (a JSON-able value).

    Args:
        configs: the configurations in portfolio order (dicts of active values).
        fmt: ``"json"``, ``"optuna"`` or ``"smac"``.
        name: the portfolio's name, recorded in the output.
        configspace_json: the space in ConfigSpace's JSON (required for ``"smac"``).

    Raises:
        ConfigError: an unknown format, or ``"smac"`` without a space.
    """
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"export format must be one of {EXPORT_FORMATS}, got {fmt!r}")
    configs = [dict(c) for c in configs]
    if fmt == "json":
        return {"portfolio": name, "configurations": configs}
    if fmt == "optuna":
        return [{"params": c, "user_attrs": {"portfolio": name, "portfolio_position": i}}
                for i, c in enumerate(configs)]
    if not configspace_json:
        raise ConfigError("the smac export needs the search space (configspace_json)")
    return {"portfolio": name, "configspace": json.loads(configspace_json),
            "initial_design": configs}


def load_smac_initial_design(exported: Mapping[str, Any]) -> list[Any]:
    """The ``ConfigSpace.Configuration`` objects of a ``smac`` export (validated).

    Raises:
        ConfigError: a configuration that is not valid in the exported space.
    """
    from ConfigSpace import Configuration, ConfigurationSpace

    space = ConfigurationSpace.from_json(io.StringIO(json.dumps(exported["configspace"])))
    out = []
    for i, values in enumerate(exported["initial_design"]):
        try:
            config = Configuration(space, values=dict(values))
            config.check_valid_configuration()
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"initial design configuration {i} is not valid in the space: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        out.append(config)
    return out
