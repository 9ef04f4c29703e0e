#!/usr/bin/env bash
# The ablations of notebooks 01-07 (cnn_keras.ablation) in `full` mode on one GPU, without
# TensorFlow (Keras 3 on JAX, the numpy input pipeline): one process per variant (VGG's D
# pre-initialised from A waits for A in the same process), under a time budget; then one call per
# ablation draws the figure and the summary from the finished runs.
#
#   KERAS_BACKEND=jax bash benchmarks/gpu_ablations.sh OUT_DIR [BUDGET_S]
#
# Environment: CNN_KERAS_DATA, DTYPE_POLICY (default mixed_bfloat16), MODE (default full; quick
# for a smoke test on CPU), ABLATIONS (default "alexnet vgg googlenet"; also densenet mobilenet
# efficientnet: 16 more processes, so run them as a second call with their own budget). Writes OUT_DIR/<ablation>/<variant>/..., OUT_DIR/<ablation>/summary.csv,
# ablation.png, run.json and OUT_DIR/<ablation>-<variants>.log.
set -uo pipefail
out=${1:?usage: gpu_ablations.sh OUT_DIR [BUDGET_S]}
budget=${2:-300}
mode=${MODE:-full}
dtype=${DTYPE_POLICY:-mixed_bfloat16}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.1}
names=${ABLATIONS:-alexnet vgg googlenet}
mkdir -p "$out"
start=$(date +%s)
python -c "from cnn_keras import data; data.load_cifar10()" || exit 1  # decode once, cached
declare -A jobs_of=(
  [alexnet]="alexnet relu|alexnet tanh|alexnet relu_lrn|alexnet relu_pool2"
  [vgg]="vgg A D_from_A|vgg D"
  [googlenet]="googlenet no_aux|googlenet aux"
  [densenet]="densenet resnet20|densenet k12|densenet k6|densenet theta1"
  [mobilenet]="mobilenet a1.0|mobilenet a0.75|mobilenet a0.5|mobilenet a0.25|mobilenet r28|mobilenet r24|mobilenet r20"
  [efficientnet]="efficientnet b0|efficientnet depth|efficientnet width|efficientnet resolution|efficientnet compound"
)
jobs=()
for name in $names; do
  [[ -n "${jobs_of[$name]:-}" ]] || { echo "unknown ablation: $name"; exit 2; }
  IFS='|' read -r -a more <<< "${jobs_of[$name]}"
  jobs+=("${more[@]}")
done
for job in "${jobs[@]}"; do
  set -- $job
  name=$1; shift
  timeout "$budget" python -m cnn_keras ablation "$name" --mode "$mode" --dtype-policy "$dtype" \
    --out "$out/$name" --variants "$@" > "$out/$name-$(IFS=-; echo "$*").log" 2>&1 &
done
wait
echo "training finished after $(( $(date +%s) - start )) s"
for name in $names; do
  if grep -L '"status": "finished"' "$out/$name"/*/run.json | grep -q .; then
    echo "$name: not every variant finished within ${budget} s; histories are partial:"
    grep -H -c . "$out/$name"/*/history.csv
  else
    python -m cnn_keras ablation "$name" --mode "$mode" --dtype-policy "$dtype" \
      --out "$out/$name" 2>&1 | tail -n 7
  fi
done
