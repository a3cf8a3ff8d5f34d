"""meta_features: fast, deterministic meta-features of classification and regression datasets.

Arrays in, named values out; this package knows nothing of the knowledge base.

Example:
    >>> import meta_features
    >>> res = meta_features.extract(X, y, groups=["general", "statistical"])
    >>> res["nr_inst"], res["skewness.mean"], res.notes["seconds"]

Five groups (:data:`GROUPS`); every feature is registered once with its group, description and
cost (:func:`list_features`). Names follow pymfe's where the definition is the same
(``nr_inst``, ``skewness.mean``, ``class_ent``, ...); ``docs/meta_features.md`` lists the
differences. ``extract(X, y, task="regression")`` describes a numeric target instead: the
target-free features plus target statistics, feature-target relations and regression
landmarkers (``meta_features._regression``).
"""

from meta_features import (  # noqa: F401 - importing registers the features
    _general,
    _info_theory,
    _landmarking,
    _model_based,
    _regression,
    _statistical,
)
from meta_features._extract import (
    EXTRACTOR_VERSION,
    SUBSAMPLED_GROUPS,
    MetaFeatureResult,
    extract,
)
from meta_features._registry import GROUPS, list_features
from meta_features._summary import DEFAULT_SUMMARY, SUMMARIES
from meta_features._transformer import MetaFeatureExtractor

__all__ = [
    "EXTRACTOR_VERSION",
    "GROUPS",
    "DEFAULT_SUMMARY",
    "SUMMARIES",
    "SUBSAMPLED_GROUPS",
    "MetaFeatureResult",
    "MetaFeatureExtractor",
    "extract",
    "list_features",
]
