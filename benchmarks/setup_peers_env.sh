#!/usr/bin/env bash
# Create the two benchmark-only virtual environments used by benchmarks/bohb_lcbench.py:
#   .venv-peers : HpBandSter, SMAC3, DEHB, Optuna (ConfigSpace 1.x) + metakb (editable, no deps)
#   .venv-yahpo : yahpo-gym 1.0.2 (needs ConfigSpace==0.6.1), used to check metakb's LCBench loader
# Usage: bash benchmarks/setup_peers_env.sh [peers|yahpo|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
what="${1:-all}"

if [[ "$what" == "peers" || "$what" == "all" ]]; then
    "$PYTHON" -m venv .venv-peers
    .venv-peers/bin/pip install -q --upgrade pip
    .venv-peers/bin/pip install -q -r benchmarks/requirements-peers.txt
    # metakb itself (for the LCBench loader), without re-resolving its dependencies.
    .venv-peers/bin/pip install -q --no-deps -e .
    .venv-peers/bin/pip install -q "ConfigSpace>=1.1,<2" pandas sqlite-utils pyyaml tqdm
fi

if [[ "$what" == "yahpo" || "$what" == "all" ]]; then
    "$PYTHON" -m venv .venv-yahpo
    .venv-yahpo/bin/pip install -q --upgrade pip
    .venv-yahpo/bin/pip install -q "yahpo-gym==1.0.2" onnxruntime "ConfigSpace==0.6.1"
fi
