"""Warm starting: which configurations to try first on a new dataset, learned from the KB.

Two warm starters share one contract (:class:`BaseWarmStarter`, documented in ``_base.py``):

* :class:`KNNWarmStarter` -- the k nearest datasets in normalised meta-feature space
  (auto-sklearn 1.0, Feurer et al. 2015);
* :class:`SiameseWarmStarter` -- nearest datasets in a learned task embedding whose distances
  predict how differently configurations rank (Kim et al. 2017); needs torch, imported lazily.

:mod:`metakb.warmstart.evaluate` measures them leave-one-dataset-out against baselines.
"""

from typing import Any

from metakb.registry import Registry
from metakb.warmstart._base import BaseWarmStarter, NeighbourWarmStarter, Recommendation, Source
from metakb.warmstart._features import MetaFeaturePreprocessor
from metakb.warmstart._knn import KNNWarmStarter
from metakb.warmstart._siamese import SiameseWarmStarter

__all__ = [
    "BaseWarmStarter",
    "NeighbourWarmStarter",
    "KNNWarmStarter",
    "SiameseWarmStarter",
    "MetaFeaturePreprocessor",
    "Recommendation",
    "Source",
    "WARM_STARTERS",
    "make_warm_starter",
    "knowledge_base_frames",
    "load_warm_starter",
    "train_siamese",
    "default_embedding_name",
    "format_evaluation",
]

# Moved to the workflow layer (they read and write the knowledge base); still reachable here by
# their old names, resolved on first use (this package itself never imports the store).
_MOVED = {"knowledge_base_frames", "load_warm_starter", "train_siamese", "default_embedding_name"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from metakb.workflows import (
            warmstart as workflow,  # allowed in tests/metakb/test_import_rules.py
        )

        return getattr(workflow, name)
    if name == "format_evaluation":  # lazy: the report imports the evaluation module
        from metakb.warmstart._report import format_evaluation

        return format_evaluation
    raise AttributeError(f"module 'metakb.warmstart' has no attribute {name!r}")

#: ``--method`` name -> class: the registry of warm starters (one line per class).
WARM_STARTERS: Registry[type[BaseWarmStarter]] = Registry("warm-start method")
WARM_STARTERS.register("knn", KNNWarmStarter)
WARM_STARTERS.register("siamese", SiameseWarmStarter)


def make_warm_starter(method: str, **params: object) -> BaseWarmStarter:
    """A warm starter by its ``--method`` name (a name of :data:`WARM_STARTERS`) with its parameters.

    Raises:
        ConfigError: ``method`` is not registered.
    """
    return WARM_STARTERS.lookup(method)(**params)  # type: ignore[arg-type]
