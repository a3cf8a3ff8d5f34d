"""The numerical view of a ConfigSpace search space that BOHB's kernel density estimators use.

Every hyperparameter becomes one column, as in HpBandSter's BOHB:

* float: its value scaled to [0, 1] (on the log scale when ``log=True``); KDE type continuous.
* integer: continuous on [0, 1] too, ConfigSpace 1.x's vector: ``lower`` maps to 0 and
  ``upper`` to 1 (on the log scale when ``log=True``), and decoding rounds the value, so the
  two end values own half-width bins. HpBandSter takes this vector from ConfigSpace
  (``Configuration.get_array()`` and ``Configuration(vector=...)``), so this is the
  representation the reference models with the ConfigSpace 1.x this project uses (ConfigSpace
  0.4, which HpBandSter was written for, spread equal-width bins over
  ``[lower - 0.5, upper + 0.5]`` instead). Uniform random draws are uniform over the integers
  (log-uniform over ``[lower - 0.5, upper + 0.5]`` when ``log=True``, then rounded), as
  ``ConfigurationSpace.sample_configuration`` draws them, not uniform over the vector.
* ordinal: as an integer over the positions ``0..n-1`` of its sequence (position ``i`` at
  ``i / (n - 1)``, decoded to the nearest position; random draws uniform over positions):
  HpBandSter refuses ordinals and asks to encode them as integers; this is that.
* categorical: the index of its choice; KDE type unordered with ``len(choices)`` levels.
* constant: left out of the model (it never varies).

Inactive (conditional) hyperparameters encode as NaN; decoding drops every hyperparameter whose
conditions are not met, as ``ConfigSpace.util.deactivate_inactive_hyperparameters`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from metakb.errors import ConfigError

__all__ = ["SpaceCodec"]


class SpaceCodec:
    """Encode configurations as vectors and back, and sample uniformly at random.

    Args:
        configspace: a ConfigSpace 1.x ``ConfigurationSpace``.

    Attributes:
        names: the modelled hyperparameters, in the space's order.
        vartypes: per column, 0 for continuous (float, integer, ordinal) or the number of
            choices of a categorical.
    """

    def __init__(self, configspace: Any) -> None:
        import ConfigSpace as CS

        self.configspace = configspace
        self._constants: dict[str, Any] = {}
        self.names: list[str] = []
        self._kinds: list[str] = []
        self._specs: list[Any] = []
        vartypes = []
        for hp in configspace.values():
            if isinstance(hp, CS.Constant):
                self._constants[hp.name] = hp.value
                continue
            kind, spec, vartype = _describe(hp)
            self.names.append(hp.name)
            self._kinds.append(kind)
            self._specs.append(spec)
            vartypes.append(vartype)
        self.vartypes = np.asarray(vartypes, dtype=int)
        self._simple = not configspace.conditions and not configspace.forbidden_clauses

    @property
    def n_dims(self) -> int:
        """Number of modelled columns."""
        return len(self.names)

    # ------------------------------------------------------------------ encode
    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """The vector of one configuration; NaN where a hyperparameter is inactive."""
        out = np.full(self.n_dims, np.nan)
        for j, (name, kind, spec) in enumerate(zip(self.names, self._kinds, self._specs,
                                                   strict=True)):
            if name in config and config[name] is not None:
                out[j] = _encode_value(kind, spec, config[name], name)
        return out

    def encode_many(self, configs: list[Mapping[str, Any]]) -> np.ndarray:
        """Rows of :meth:`encode`, shape ``(len(configs), n_dims)``."""
        if not configs:
            return np.empty((0, self.n_dims))
        return np.vstack([self.encode(c) for c in configs])

    # ------------------------------------------------------------------ decode
    def decode(self, vector: np.ndarray) -> dict[str, Any]:
        """The configuration (active values only) of a complete vector.

        Raises:
            ConfigError: the decoded configuration violates a forbidden clause.
        """
        values: dict[str, Any] = dict(self._constants)
        for name, kind, spec, u in zip(self.names, self._kinds, self._specs, vector,
                                       strict=True):
            values[name] = _decode_value(kind, spec, float(u))
        if self._simple:
            return values
        from ConfigSpace.util import deactivate_inactive_hyperparameters

        try:
            config = deactivate_inactive_hyperparameters(values, self.configspace)
            config.check_valid_configuration()
        except (ValueError, TypeError) as e:  # ConfigSpace's ForbiddenValueError is a ValueError
            raise ConfigError(f"decoded configuration {values} is not valid in the space: {e}") from e
        return dict(config)

    def sample_vectors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` complete vectors of uniformly random configurations (columns independent).

        Floats are uniform on [0, 1]; integers are uniform over their values (log-uniform over
        ``[lower - 0.5, upper + 0.5]`` when ``log=True``) and ordinals over their positions,
        then encoded; categoricals are uniform over their choices.
        """
        out = rng.random((n, self.n_dims))
        for j, (kind, spec, t) in enumerate(zip(self._kinds, self._specs, self.vartypes,
                                                strict=True)):
            if t > 0:
                out[:, j] = rng.integers(t, size=n)
            elif kind == "int":
                out[:, j] = [_encode_value(kind, spec, _draw_int(spec, u), "") for u in out[:, j]]
            elif kind == "ord":
                n_pos = len(spec)
                pos = np.minimum(np.floor(out[:, j] * n_pos), n_pos - 1)
                out[:, j] = pos / (n_pos - 1) if n_pos > 1 else 0.0
        return out

    def sample(self, rng: np.random.Generator, max_tries: int = 1000) -> dict[str, Any]:
        """One configuration drawn uniformly at random (forbidden draws are redrawn).

        Raises:
            ConfigError: no valid configuration in ``max_tries`` draws.
        """
        for _ in range(max_tries):
            try:
                return self.decode(self.sample_vectors(rng, 1)[0])
            except ConfigError:
                continue
        raise ConfigError(f"no valid configuration in {max_tries} random draws; "
                          "expected a space whose forbidden clauses leave room")


def _describe(hp: Any) -> tuple[str, Any, int]:
    import ConfigSpace as CS

    if isinstance(hp, CS.CategoricalHyperparameter):
        return "cat", list(hp.choices), len(hp.choices)
    if isinstance(hp, CS.OrdinalHyperparameter):
        return "ord", list(hp.sequence), 0
    if isinstance(hp, CS.UniformIntegerHyperparameter | CS.NormalIntegerHyperparameter
                  | CS.BetaIntegerHyperparameter):
        lower, upper, log = int(hp.lower), int(hp.upper), bool(hp.log)
        lo, hi = (np.log(lower), np.log(upper)) if log else (float(lower), float(upper))
        return "int", (lo, hi, log, lower, upper), 0
    if isinstance(hp, CS.UniformFloatHyperparameter | CS.NormalFloatHyperparameter
                  | CS.BetaFloatHyperparameter):
        lo, hi, log = float(hp.lower), float(hp.upper), bool(hp.log)
        if log:
            lo, hi = np.log(lo), np.log(hi)
        return "float", (lo, hi, log, float(hp.lower), float(hp.upper)), 0
    raise ConfigError(f"hyperparameter {hp.name!r} of type {type(hp).__name__} is not supported; "
                      "expected float, integer, ordinal, categorical or constant")


def _encode_value(kind: str, spec: Any, value: Any, name: str) -> float:
    if kind in ("cat", "ord"):
        try:
            index = spec.index(value)
        except ValueError as e:
            raise ConfigError(f"value {value!r} of {name!r} is not among {spec}") from e
        if kind == "cat":
            return float(index)
        return index / (len(spec) - 1) if len(spec) > 1 else 0.0
    lo, hi, log, _, _ = spec
    x = float(value)
    if log:
        if x <= 0:
            raise ConfigError(f"value {value!r} of log-scale {name!r} must be > 0")
        x = np.log(x)
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _draw_int(spec: Any, u: float) -> int:
    """The integer at quantile ``u`` of the uniform (log-uniform) draw over its values."""
    _, _, log, lower, upper = spec
    lo, hi = lower - 0.5, upper + 0.5
    if log:
        lo, hi = np.log(max(lo, 1e-12)), np.log(hi)
        return int(np.clip(np.rint(np.exp(lo + u * (hi - lo))), lower, upper))
    return int(np.clip(np.rint(lo + u * (hi - lo)), lower, upper))


def _decode_value(kind: str, spec: Any, u: float) -> Any:
    if kind == "cat":
        return spec[int(np.clip(np.rint(u), 0, len(spec) - 1))]
    if kind == "ord":
        return spec[int(np.clip(np.rint(u * (len(spec) - 1)), 0, len(spec) - 1))]
    lo, hi, log, lower, upper = spec
    x = lo + float(np.clip(u, 0.0, 1.0)) * (hi - lo)
    if log:
        x = float(np.exp(x))
    if kind == "int":
        return int(np.clip(np.rint(x), lower, upper))
    return float(np.clip(x, lower, upper))
