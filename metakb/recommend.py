"""``metakb.recommend``: the public import path of the workflow :mod:`metakb.workflows.recommend` (kept for
the README and existing code; the implementation lives in the workflow layer)."""

from metakb.workflows.recommend import (
    RecommendationReport,
    RecommendedConfiguration,
    query_meta_features,
    recommend,
)

__all__ = ['RecommendedConfiguration', 'RecommendationReport', 'recommend', 'query_meta_features']
