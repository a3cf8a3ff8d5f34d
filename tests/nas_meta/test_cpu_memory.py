"""Issue 25, the CPU path: tasks of a meta-batch adapt one at a time off CUDA (same numbers,
one task's memory), the supernet takes its CPU shortcuts (channels-last cells, zero-weight
operations skipped, plain autograd outside torch.func) with the same numbers, and small
MetaNAS runs stay under measured memory bounds."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.func import vmap

import nas_meta.learners as learners
from nas_meta._functional import AdaptConfig, adapt
from nas_meta.episodes import EpisodeSampler
from nas_meta.learners import MetaNAS
from nas_meta.supernet import SearchNetwork
from nas_meta.train import cpu_threads

ROOT = Path(__file__).resolve().parents[2]


def _fit(toy_images, monkeypatch, batched: bool) -> dict[str, torch.Tensor]:
    if batched:  # the former behaviour: every task of the batch at once
        monkeypatch.setattr(learners, "_tasks_vmap", lambda fn, in_dims, device: vmap(fn, in_dims=in_dims))
    else:
        monkeypatch.undo()
    sampler = EpisodeSampler(toy_images, 3, 1, 2, seed=0)
    learner = MetaNAS(channels=4, layers=2, nodes=1, inner_steps=2, eval_steps=1, finetune_steps=1, arch_warmup=0.0,
                      seed=0).fit(sampler, 2, meta_batch=3, show_progress=False)
    return {k: v.detach().clone() for k, v in learner.model_.state_dict().items()}


def test_one_task_at_a_time_gives_the_batched_weights(toy_images, monkeypatch):
    batched = _fit(toy_images, monkeypatch, batched=True)
    chunked = _fit(toy_images, monkeypatch, batched=False)
    assert batched.keys() == chunked.keys()
    for name in batched:  # the same arithmetic; only the kernels' summation order may differ
        torch.testing.assert_close(chunked[name], batched[name], rtol=1e-5, atol=1e-6, msg=name)


_RUN = textwrap.dedent("""
    import numpy as np
    from nas_meta.episodes import EpisodeSampler
    from nas_meta.learners import MetaNAS
    rng = np.random.default_rng(0)
    images = (rng.random((20, 20, 28, 28)) < 0.2).astype(np.uint8) * 255
    sampler = EpisodeSampler(images, 5, 1, 5, seed=0)
    learner = MetaNAS(channels=4, layers=3, nodes=2, inner_steps=2, eval_steps=2, finetune_steps=1,
                      arch_warmup=0.0).fit(sampler, 1, meta_batch=8, show_progress=False)
    learner.evaluate(EpisodeSampler(images, 5, 1, 5, seed=1), 4, batch=4, show_progress=False)
""")


def _peak_rss_mb(code: str) -> float:
    """Peak resident memory of ``code`` run in a fresh interpreter, in MB.

    Read from the child's own ``VmHWM`` (its address space's high-water mark): ``getrusage``'s
    ``ru_maxrss`` survives ``exec`` and so counted the parent's size too (583 MB for a run that
    peaks at 416 MB when the parent is this pytest process with torch loaded).
    """
    if not sys.platform.startswith("linux"):
        pytest.skip("the peak resident memory of a process is read from /proc/self/status")
    probe = "print(next(line for line in open('/proc/self/status') if line.startswith('VmHWM')).split()[1])"
    out = subprocess.run([sys.executable, "-c", code + "\n" + probe], capture_output=True, text=True, check=True,
                         timeout=600, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    return int(out.stdout.split()[-1]) / 1024  # kB


@pytest.mark.slow
def test_small_metanas_run_peak_memory_bound():
    """A MetaNAS meta-step of 8 five-way tasks and an evaluation batch of 4 episodes (28x28
    images, 4 channels, 3 cells) stays under 1 GB of resident memory in a fresh process
    (interpreter and torch alone take about 250 MB): measured 636 MB one task at a time, 2,508 MB
    with all 8 tasks batched (the behaviour before issue 25), 2026-12-04."""
    assert _peak_rss_mb(_RUN) < 512


# ---------------------------------------------------------------- the lean CPU path (issue 25, part 2)
def _reference_path(monkeypatch, on: bool) -> None:
    """Switch the CPU shortcuts of the supernet on, or off (the computation as written)."""
    monkeypatch.setattr(SearchNetwork, "cpu_channels_last", on)
    monkeypatch.setattr(SearchNetwork, "cpu_skip_zero_ops", on)


def _fit_and_evaluate(toy_images, monkeypatch, lean: bool) -> tuple[dict[str, torch.Tensor], dict]:
    _reference_path(monkeypatch, lean)
    sampler = EpisodeSampler(toy_images, 3, 1, 2, seed=0)
    # one soft meta-step, then one of the discretised finishing phase (hard 0/1 weights)
    learner = MetaNAS(channels=4, layers=2, nodes=2, inner_steps=2, eval_steps=2, finetune_steps=2, arch_warmup=0.0,
                      discrete_finish=0.5, seed=0).fit(sampler, 2, meta_batch=2, show_progress=False)
    result = learner.evaluate(EpisodeSampler(toy_images, 3, 1, 3, seed=1), 4, batch=2, show_progress=False,
                              per_episode=True)
    return {k: v.detach().clone() for k, v in learner.model_.state_dict().items()}, result


def test_lean_cpu_path_gives_the_reference_weights_and_accuracy(toy_images, monkeypatch):
    """Channels-last cells and skipped zero-weight operations: the weights of a tiny MetaNAS run
    (soft and discretised meta-steps) and its test accuracies agree with the computation as
    written to 1e-5."""
    reference, ref_result = _fit_and_evaluate(toy_images, monkeypatch, lean=False)
    lean, lean_result = _fit_and_evaluate(toy_images, monkeypatch, lean=True)
    assert reference.keys() == lean.keys()
    for name in reference:
        torch.testing.assert_close(lean[name], reference[name], rtol=1e-5, atol=1e-6, msg=name)
    for key in ("per_episode", "accuracy", "supernet_accuracy", "parameter_free_share"):
        np.testing.assert_allclose(lean_result[key], ref_result[key], rtol=0, atol=1e-5, err_msg=key)


def test_skipping_zero_weight_operations_is_exact(monkeypatch):
    """With the 0/1 weights of the discretised cells, leaving out the zero-weighted operations
    gives bit for bit the same adapted weights (and zero gradients for the skipped ones)."""
    torch.manual_seed(0)
    model = SearchNetwork(4, 3, 2, seed=0)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = torch.rand(6, 1, 12, 12), torch.arange(3).repeat(2)
    cfg = AdaptConfig(steps=2, lr=0.1, hard=True)
    monkeypatch.setattr(SearchNetwork, "cpu_channels_last", False)
    adapted = {}
    for skip in (False, True):
        monkeypatch.setattr(SearchNetwork, "cpu_skip_zero_ops", skip)
        adapted[skip] = adapt(model, params, x, y, 3, cfg)
    for part in (0, 1):
        for name, value in adapted[False][part].items():
            assert torch.equal(adapted[True][part][name], value), name
    mask = model._active_ops(model.hard_op_weights()[0])
    assert mask is not None and sum(map(sum, mask)) == 2 * 2  # one operation on each of 2 edges per node


def test_zero_weight_mask_left_alone_where_values_cannot_be_read():
    model = SearchNetwork(4, 2, 2, seed=0)
    soft, _ = model.op_weights()
    assert model._active_ops(soft) is None  # no weight is exactly 0: nothing to skip
    hard, _ = model.hard_op_weights()
    assert vmap(lambda w: torch.tensor(model._active_ops(w) is None))(hard[None]).all()  # under vmap


def test_cpu_threads_one_thread_for_a_cpu_run_then_restored(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    with cpu_threads("cpu"):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with cpu_threads("cuda"):  # not a CPU run: untouched
        assert torch.get_num_threads() == before
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's choice stands
    with cpu_threads("cpu"):
        assert torch.get_num_threads() == before


_TINY_RUN = textwrap.dedent("""
    import numpy as np
    from nas_meta.episodes import EpisodeSampler
    from nas_meta.learners import MetaNAS
    rng = np.random.default_rng(0)
    images = (rng.random((10, 20, 28, 28)) < 0.2).astype(np.uint8) * 255
    learner = MetaNAS(channels=4, layers=2, nodes=2, inner_steps=1, eval_steps=1, finetune_steps=1,
                      arch_warmup=0.0).fit(EpisodeSampler(images, 5, 1, 5, seed=0), 1, meta_batch=8,
                                           show_progress=False)
    learner.evaluate(EpisodeSampler(images, 5, 1, 5, seed=1), 4, batch=4, show_progress=False)
""")


def test_tiny_metanas_run_peak_memory_bound():
    """A meta-step of 8 five-way tasks on 28x28 images (supernet 4/2/2, one inner step) and an
    evaluation batch of 4 episodes, in a fresh process: see the bound's measurements in
    docs/nas_meta.md, "Memory and time on the CPU"."""
    assert _peak_rss_mb(_TINY_RUN) < 512


def test_plain_autograd_gives_the_torch_func_gradients(monkeypatch):
    """adapt's CPU path (torch.autograd.grad, which frees the forward pass's activations as the
    backward pass goes) gives the adapted weights of torch.func.grad."""
    import nas_meta._functional as functional

    model = SearchNetwork(4, 2, 2, seed=0)
    params = {k: v.detach() for k, v in model.named_parameters()}
    torch.manual_seed(0)
    x, y = torch.rand(6, 1, 12, 12), torch.arange(3).repeat(2)
    cfg = AdaptConfig(steps=2, lr=0.1, lr_arch=0.5, arch_reg=0.1, head_init="proto")
    assert functional._eager_cpu(x, params)
    assert not functional._eager_cpu(x, {"w": torch.zeros(1, requires_grad=True)})  # differentiated from outside
    assert vmap(lambda x: torch.tensor(functional._eager_cpu(x)))(x[None]).item() is False  # under a transform
    eager = adapt(model, params, x, y, 3, cfg, temperature=1.0, temperature_end=0.5)
    monkeypatch.setattr(functional, "_eager_cpu", lambda *args: False)
    func = adapt(model, params, x, y, 3, cfg, temperature=1.0, temperature_end=0.5)
    for part in (0, 1):
        for name, value in func[part].items():
            torch.testing.assert_close(eager[part][name], value, rtol=1e-6, atol=1e-7, msg=name)
