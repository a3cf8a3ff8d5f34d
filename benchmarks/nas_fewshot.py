"""Few-shot NAS benchmark: MetaNAS against Reptile, first-order MAML and ProtoNet on Omniglot.

Two steps, so the GPU machine needs only torch, numpy and PIL:

1. ``run`` (on the GPU machine): meta-trains the four methods as concurrent processes on one
   GPU (``python -m nas_meta.train``, each within its own time budget), evaluates each on the
   held-out alphabets (Korean, Sanskrit; 600 episodes per setting), writes ``OUT/<method>/``
   and ``OUT/summary.json``.
2. ``store`` (here): reads ``summary.json``, stores genotypes and few-shot results in the
   knowledge base, draws the found cells, prints the comparison table (Markdown).

Usage::

    python benchmarks/nas_fewshot.py run --out OUT --cache .nasdata/omniglot28.npz
    python benchmarks/nas_fewshot.py store --summary OUT/summary.json --db kb.sqlite --img docs/img
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Settings of each method: the meta-training command line, time budget from --budget-*.
PLANS: dict[str, list[str]] = {
    "metanas": ["--meta-batch", "8", "--train-ways", "20", "--train-shots", "1", "--train-queries", "5"],
    "reptile": ["--meta-batch", "8", "--train-ways", "20", "--train-shots", "1", "--train-queries", "5"],
    "fomaml": ["--meta-batch", "8", "--train-ways", "20", "--train-shots", "1", "--train-queries", "5"],
    "protonet": ["--meta-batch", "1", "--train-ways", "60", "--train-shots", "1", "--train-queries", "5"],
}


def run(args: argparse.Namespace) -> int:
    # Full run folders (checkpoints) go to --work; --out receives only a few small files.
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    procs = {}
    for method in args.methods.split(","):
        budget = args.budget_metanas if method == "metanas" else args.budget_baselines
        cmd = [sys.executable, "-m", "nas_meta.train", "--method", method, "--steps", str(args.steps),
               "--time-budget", str(budget), "--device", args.device, "--out", str(work / method),
               "--eval", getattr(args, f"eval_{method}") or args.eval, "--episodes", str(args.episodes),
               "--eval-budget", str(args.eval_budget), "--cache", args.cache,
               "--seed", str(args.seed), "--augment", str(args.augment), "--quiet", *PLANS[method]]
        extra = getattr(args, f"set_{method}")
        if extra:
            cmd += ["--set", *extra.split()]
        print("$", " ".join(cmd), flush=True)
        log = open(work / f"{method}.log", "w")  # noqa: SIM115 - closed below
        procs[method] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO), log)
    start = time.time()
    status = {}
    for method, (proc, log) in procs.items():
        status[method] = proc.wait()
        log.close()
        print(f"{method}: exit {status[method]} after {time.time() - start:.0f} s", flush=True)
        print((work / f"{method}.log").read_text()[-1500:], flush=True)
    summary = {m: json.loads((work / m / "results.json").read_text())
               for m in procs if (work / m / "results.json").is_file()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    with open(out / "logs.txt", "w") as logs:
        for m in procs:
            logs.write(f"===== {m}\n" + (work / f"{m}.log").read_text()[-20000:] + "\n")
    for name in ("genotype.json", "cell_normal.png", "cell_reduce.png", "checkpoint.pt", "config.json"):
        if (work / "metanas" / name).is_file():
            shutil.copy(work / "metanas" / name, out / f"metanas_{name}")
    print(table(summary))
    return 0 if all(v == 0 for v in status.values()) else 1


def table(summary: dict) -> str:
    """The comparison table in Markdown: one row per method, one column per setting."""
    settings = sorted({(e["ways"], e["shots"]) for s in summary.values() for e in s["evaluations"]},
                      key=lambda ws: (ws[1], ws[0]))
    head = "| method | meta-train s | steps | " + " | ".join(f"{w}-way {s}-shot" for w, s in settings) + " |"
    lines = [head, "|" + "---|" * (3 + len(settings))]
    for method, s in summary.items():
        cells = []
        for w, k in settings:
            ev = next((e for e in s["evaluations"] if (e["ways"], e["shots"]) == (w, k)), None)
            text = f"{100 * ev['accuracy']:.1f} ± {100 * ev['ci95']:.1f}" if ev else ""
            if ev and ev["episodes"] < max(e["episodes"] for e in s["evaluations"] + [{"episodes": 600}]):
                text += f" ({ev['episodes']} episodes)"
            cells.append(text)
        lines.append(f"| {method} | {s['train_seconds']:.0f} | {s['steps_done']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def store(args: argparse.Namespace) -> int:
    from metakb.cli.nas import store_summary
    from metakb.store import open_kb
    from nas_meta.genotypes import Genotype
    from nas_meta.plot import plot_genotype

    summary = json.loads(Path(args.summary).read_text())
    with open_kb(args.db) as kb:
        for method, s in summary.items():
            store_summary(kb, s, origin="benchmarks/nas_fewshot.py")
            if "genotype" in s and args.img:
                plot_genotype(Genotype.from_dict(s["genotype"]), Path(args.img) / f"nas_{method}_cell", title=method)
    print(table(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="meta-train and evaluate (GPU machine)")
    r.add_argument("--out", required=True, help="small results (summary.json, logs, the found cell)")
    r.add_argument("--work", default="/tmp/nas_fewshot", help="full run folders (checkpoints)")
    r.add_argument("--eval-budget", type=float, default=120.0, help="seconds per evaluation setting at most")
    r.add_argument("--cache", default=str(REPO / ".nasdata" / "omniglot28.npz"))
    r.add_argument("--methods", default="metanas,reptile,fomaml,protonet")
    r.add_argument("--steps", type=int, default=100000, help="meta-steps (the time budget usually ends first)")
    r.add_argument("--budget-metanas", type=float, default=360.0)
    r.add_argument("--budget-baselines", type=float, default=240.0)
    r.add_argument("--eval", default="5x1,20x1,5x5,20x5")
    r.add_argument("--episodes", type=int, default=600)
    r.add_argument("--device", default="cuda")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--augment", type=float, default=0.0, help="augmentation strength of every method's training images")
    for m in PLANS:
        r.add_argument(f"--set-{m}", default="", help=f"space-separated KEY=VALUE settings of {m}")
        r.add_argument(f"--eval-{m}", default="", help=f"evaluation settings of {m} (default --eval)")
    s = sub.add_parser("store", help="store results in the knowledge base and draw the cells")
    s.add_argument("--summary", required=True)
    s.add_argument("--db", default=None)
    s.add_argument("--img", default=None, help="folder for the cell drawings")
    args = parser.parse_args(argv)
    return run(args) if args.command == "run" else store(args)


if __name__ == "__main__":
    sys.exit(main())
