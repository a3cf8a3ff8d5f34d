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
from metakb.warmstart._store import (
    default_embedding_name,
    knowledge_base_frames,
    load_warm_starter,
    train_siamese,
)

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
    "AggregatingKNNWarmStarter",
    "PerformanceModelWarmStarter",
    "PairwiseModelWarmStarter",
    "CFWarmStarter",
    "RFSelectorWarmStarter",
    "als_factorise",
    "recommend_with_probes",
]

#: ``--method`` name -> class.
WARM_STARTERS = {"knn": KNNWarmStarter, "siamese": SiameseWarmStarter}
WARM_STARTERS["knn"] = AggregatingKNNWarmStarter
WARM_STARTERS["knn-best"] = KNNWarmStarter
WARM_STARTERS["rf-model"] = PerformanceModelWarmStarter
WARM_STARTERS["pairwise-model"] = PairwiseModelWarmStarter
WARM_STARTERS["cf"] = CFWarmStarter
WARM_STARTERS["rf-selector"] = RFSelectorWarmStarter


def make_warm_starter(method: str, **params: object) -> BaseWarmStarter:
    """A warm starter by its ``--method`` name (``knn`` or ``siamese``) with its parameters."""
    from metakb.errors import ConfigError

    if method not in WARM_STARTERS:
        raise ConfigError(f"warm-start method must be one of {sorted(WARM_STARTERS)}, got {method!r}")
    return WARM_STARTERS[method](**params)  # type: ignore[arg-type]
