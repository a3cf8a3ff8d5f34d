"""Warm starting: which configurations to try first on a new dataset, learned from the KB.

Every warm starter shares one contract (:class:`BaseWarmStarter`, documented in ``_base.py``):

* :class:`AggregatingKNNWarmStarter` (``knn``) -- the distance-weighted mean normalised score of
  every configuration over the nearest datasets in meta-feature space;
* :class:`KNNWarmStarter` (``knn-best``) -- the best configuration of each of the k nearest
  datasets in turn (auto-sklearn 1.0, Feurer et al. 2015);
* :class:`PerformanceModelWarmStarter` (``rf-model``) and :class:`PairwiseModelWarmStarter`
  (``pairwise-model``) -- one model over every cell of the matrix (Öztürk et al. 2022);
* :class:`CFWarmStarter` (``cf``) -- latent factors of the matrix, a new dataset placed by its
  meta-features or by probe evaluations (Fusi et al. 2018);
* :class:`RFSelectorWarmStarter` (``rf-selector``) -- one forest per configuration (ASlib's
  regression selector);
* :class:`SiameseWarmStarter` (``siamese``) -- nearest datasets in a learned task embedding whose
  distances predict how differently configurations rank (Kim et al. 2017); needs torch,
  imported lazily.

:mod:`metakb.warmstart.evaluate` measures them leave-one-dataset-out against baselines.
"""

from typing import Any

from metakb.registry import Registry
from metakb.warmstart._aggregate import AggregatingKNNWarmStarter
from metakb.warmstart._aslib_selector import RFSelectorWarmStarter
from metakb.warmstart._base import BaseWarmStarter, NeighbourWarmStarter, Recommendation, Source
from metakb.warmstart._cf import CFWarmStarter, als_factorise, recommend_with_probes
from metakb.warmstart._features import MetaFeaturePreprocessor
from metakb.warmstart._knn import KNNWarmStarter
from metakb.warmstart._performance_model import (
    PairwiseModelWarmStarter,
    PerformanceModelWarmStarter,
)
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
    "AggregatingKNNWarmStarter",
    "PerformanceModelWarmStarter",
    "PairwiseModelWarmStarter",
    "CFWarmStarter",
    "RFSelectorWarmStarter",
    "als_factorise",
    "recommend_with_probes",
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
WARM_STARTERS.register("knn", AggregatingKNNWarmStarter)
WARM_STARTERS.register("knn-best", KNNWarmStarter)
WARM_STARTERS.register("rf-model", PerformanceModelWarmStarter)
WARM_STARTERS.register("pairwise-model", PairwiseModelWarmStarter)
WARM_STARTERS.register("cf", CFWarmStarter)
WARM_STARTERS.register("rf-selector", RFSelectorWarmStarter)
WARM_STARTERS.register("siamese", SiameseWarmStarter)


def make_warm_starter(method: str, **params: object) -> BaseWarmStarter:
    """A warm starter by its ``--method`` name (a name of :data:`WARM_STARTERS`) with its parameters.

    Raises:
        ConfigError: ``method`` is not registered.
    """
    return WARM_STARTERS.lookup(method)(**params)  # type: ignore[arg-type]
