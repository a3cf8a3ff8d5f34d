"""Surrogate benchmarks: cheap stand-ins for expensive training runs.

:class:`LCBench` loads the YAHPO Gym surrogate of LCBench (an ONNX network that predicts the
learning curve of a funnel-shaped MLP on 34 OpenML tasks) with onnxruntime, without yahpo-gym
(which needs ConfigSpace 0.6).
"""

from metakb.surrogates.lcbench import LCBENCH_HYPERPARAMETERS, LCBENCH_OUTPUTS, LCBench

__all__ = ["LCBench", "LCBENCH_HYPERPARAMETERS", "LCBENCH_OUTPUTS"]
