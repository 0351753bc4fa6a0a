#!/usr/bin/env bash
# Run the notebooks' test suite and the benchmark on a machine with a GPU (used for the CUDA figures in the
# README). Usage: OUT=dir bash tools/gpu_check.sh [WHEEL_DIR]
# On a machine without network, WHEEL_DIR holds wheels of what its Python lacks (fastai, nbdev, execnb, ...).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.test-artifacts/gpu}; mkdir -p "$OUT"
PY=${PYTHON:-python3}
if [ -n "${1:-}" ]; then $PY -m pip install -q --no-deps --no-index "$1"/*.whl 2>&1 | tail -3; fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
$PY - <<'PY' | tee "$OUT/device.txt"
import torch, fastai, nbdev; from mnist_from_scratch.data import def_device
print('torch', torch.__version__, '| fastai', fastai.__version__, '| nbdev', nbdev.__version__, '| def_device', def_device,
      '|', torch.cuda.get_device_name() if torch.cuda.is_available() else 'no cuda')
PY
t=$(date +%s)
$PY tools/run_tests.py --skip-pytest --workers ${NB_WORKERS:-4} 2>&1 | tee "$OUT/tests.log"
echo "test suite: $(( $(date +%s) - t ))s" | tee -a "$OUT/tests.log"
MNIST_FAULT_TRIALS=2 $PY -m pytest -q tests/test_data_faults.py 2>&1 | tail -3 | tee -a "$OUT/tests.log"
$PY tools/bench.py --epochs ${BENCH_EPOCHS:-5} --out "$OUT" 2>&1 | grep -v Warning | tee "$OUT/bench.log"
