"""nas_meta: few-shot neural architecture search and meta-learning on Omniglot (PyTorch).

A DARTS search space (:class:`SearchNetwork`, genotypes as JSON), MetaNAS (meta-learning the
supernet's weights and architecture with Reptile or first-order MAML), fixed-architecture
Reptile and first-order MAML baselines on the 4-layer conv net, Prototypical Networks, a
learn2learn-style :class:`MAML` wrapper, and N-way K-shot Omniglot episodes. Depends on torch
and numpy only; results reach the knowledge base through ``metakb nas`` (see docs/nas_meta.md).
"""

from nas_meta.backbones import Conv4
from nas_meta.episodes import Episodes, EpisodeSampler
from nas_meta.genotypes import Genotype, discretise, hard_weights, parameter_free_share
from nas_meta.learners import (
    FOMAML,
    METHODS,
    FewShotLearner,
    MetaNAS,
    ProtoNet,
    Reptile,
    load_learner,
)
from nas_meta.maml import MAML, Learner
from nas_meta.omniglot import TEST_ALPHABETS, OmniglotArrays, load_omniglot, split_by_alphabet
from nas_meta.ops import PARAMETER_FREE, PRIMITIVES
from nas_meta.supernet import SearchNetwork

__all__ = [
    "Conv4",
    "Episodes",
    "EpisodeSampler",
    "FOMAML",
    "FewShotLearner",
    "Genotype",
    "Learner",
    "MAML",
    "METHODS",
    "MetaNAS",
    "OmniglotArrays",
    "PARAMETER_FREE",
    "PRIMITIVES",
    "ProtoNet",
    "Reptile",
    "SearchNetwork",
    "TEST_ALPHABETS",
    "discretise",
    "hard_weights",
    "load_learner",
    "load_omniglot",
    "parameter_free_share",
    "split_by_alphabet",
]
