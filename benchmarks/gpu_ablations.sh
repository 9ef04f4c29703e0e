#!/usr/bin/env bash
# The ablations of notebooks 01-03 (cnn_keras.ablation) in `full` mode on one GPU, without
# TensorFlow (Keras 3 on JAX, the numpy input pipeline): one process per variant (VGG's D
# pre-initialised from A waits for A in the same process), under a time budget; then one call per
# ablation draws the figure and the summary from the finished runs.
#
#   KERAS_BACKEND=jax bash benchmarks/gpu_ablations.sh OUT_DIR [BUDGET_S]
#
# Environment: CNN_KERAS_DATA, DTYPE_POLICY (default mixed_bfloat16), MODE (default full; quick
# for a smoke test on CPU). Writes OUT_DIR/<ablation>/<variant>/..., OUT_DIR/<ablation>/summary.csv,
# ablation.png, run.json and OUT_DIR/<ablation>-<variants>.log.
set -uo pipefail
out=${1:?usage: gpu_ablations.sh OUT_DIR [BUDGET_S]}
budget=${2:-300}
mode=${MODE:-full}
dtype=${DTYPE_POLICY:-mixed_bfloat16}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.1}
mkdir -p "$out"
start=$(date +%s)
python -c "from cnn_keras import data; data.load_cifar10()" || exit 1  # decode once, cached
jobs=("alexnet relu" "alexnet tanh" "alexnet relu_lrn" "alexnet relu_pool2"
      "vgg A D_from_A" "vgg D" "googlenet no_aux" "googlenet aux")
for job in "${jobs[@]}"; do
  set -- $job
  name=$1; shift
  timeout "$budget" python -m cnn_keras ablation "$name" --mode "$mode" --dtype-policy "$dtype" \
    --out "$out/$name" --variants "$@" > "$out/$name-$(IFS=-; echo "$*").log" 2>&1 &
done
wait
echo "training finished after $(( $(date +%s) - start )) s"
for name in alexnet vgg googlenet; do
  if grep -L '"status": "finished"' "$out/$name"/*/run.json | grep -q .; then
    echo "$name: not every variant finished within ${budget} s; histories are partial:"
    grep -H -c . "$out/$name"/*/history.csv
  else
    python -m cnn_keras ablation "$name" --mode "$mode" --dtype-policy "$dtype" \
      --out "$out/$name" 2>&1 | tail -n 7
  fi
done
