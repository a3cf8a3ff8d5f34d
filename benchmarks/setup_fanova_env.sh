#!/usr/bin/env bash
# Create .venv-fanova: the reference fANOVA (automl/fanova 2.0.19 on pyrfr) for benchmarks/importance.py.
#
# pyrfr is a C++ random forest wrapped with SWIG, so swig must be installed first
# (Debian: `apt-get install -y swig`). fanova 2.0.19 still calls `np.float` (removed in
# numpy 1.24); benchmarks/importance.py aliases it before importing, and we also pin
# numpy < 1.24 here so the reference runs exactly as published.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-fanova}
PYTHON=${PYTHON:-python3}

if ! command -v swig >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        apt-get install -y swig
    else
        echo "swig is missing: run 'sudo apt-get install -y swig' first" >&2
        exit 1
    fi
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip wheel setuptools
# numpy<1.24 keeps np.float; ConfigSpace 0.x is what fanova 2.0.19 was written against.
"$VENV/bin/pip" install "numpy<1.24" "ConfigSpace<0.7" "pyrfr==0.9.0" "fanova==2.0.19"
"$VENV/bin/python" -c "import numpy as np; np.float = float; import fanova; print('fanova ok', np.__version__)"
