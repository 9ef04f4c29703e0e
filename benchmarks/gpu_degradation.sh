#!/usr/bin/env bash
# The degradation experiment (He et al. 2015, Fig. 6) at full scale on one GPU, without TensorFlow:
# Keras 3 on JAX, CIFAR-10 decoded with Pillow, the numpy input pipeline (cnn_keras.data.
# NumpyTrainBatches). The four nets train at once, one process each (a small CIFAR net leaves most
# of a big GPU idle), under a time budget; a last call draws the figure and the summary.
#
#   KERAS_BACKEND=jax bash benchmarks/gpu_degradation.sh OUT_DIR [EPOCHS] [BUDGET_S]
#
# Environment: CNN_KERAS_DATA (CIFAR-10 folder or zip), DTYPE_POLICY (default mixed_bfloat16),
# WARMUP_EPOCHS (default 1), MODE (default full; quick for a smoke test on CPU), PIPELINE (default
# auto: the numpy pipeline; layer: the augmentation on the GPU, data.PadCropFlip).
# Writes OUT_DIR/<net>/{history.csv,run.json}, OUT_DIR/<net>.log, OUT_DIR/summary.csv,
# OUT_DIR/degradation.png, OUT_DIR/run.json, and OUT_DIR/resnet20-alone/ (ResNet-20's epoch time
# with the GPU to itself) when the budget leaves time for it.
set -uo pipefail
out=${1:?usage: gpu_degradation.sh OUT_DIR [EPOCHS] [BUDGET_S]}
epochs=${2:-50}
budget=${3:-450}
mode=${MODE:-full}
dtype=${DTYPE_POLICY:-mixed_bfloat16}
warmup=${WARMUP_EPOCHS:-1}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.2}
nets=(plain20 plain56 resnet20 resnet56)
mkdir -p "$out"
start=$(date +%s)
common=(--mode "$mode" --epochs "$epochs" --warmup-epochs "$warmup" --dtype-policy "$dtype"
        --pipeline "${PIPELINE:-auto}" --out "$out")

python -c "from cnn_keras import data; data.load_cifar10()" || exit 1  # decode once, cached
for net in "${nets[@]}"; do
  timeout "$budget" python -m cnn_keras degradation "${common[@]}" --models "$net" \
    > "$out/$net.log" 2>&1 &
done
wait
echo "training finished after $(( $(date +%s) - start )) s"
finished=0
for net in "${nets[@]}"; do
  tail -n 2 "$out/$net.log"
  grep -q '"status": "finished"' "$out/$net/run.json" 2>/dev/null && finished=$((finished + 1))
done
if [ "$finished" -eq 4 ]; then
  python -m cnn_keras degradation "${common[@]}" > "$out/summary.log" 2>&1
  cat "$out/summary.log"
else
  echo "only $finished of 4 nets finished within ${budget} s: no figure; histories are partial"
fi
left=$(( budget + 60 - ($(date +%s) - start) ))
if [ "$left" -gt 60 ]; then  # ResNet-20's epoch time with the GPU to itself
  timeout "$left" python -m cnn_keras train resnet20 --epochs 3 --warmup-epochs 1 \
    --dtype-policy "$dtype" --out "$out/resnet20-alone" > "$out/resnet20-alone.log" 2>&1
  tail -n 3 "$out/resnet20-alone.log"
fi
