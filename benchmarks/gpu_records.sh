#!/usr/bin/env bash
# The claims' records that need a GPU, in one device call of under 10 minutes (Keras 3 on JAX,
# no TensorFlow; float32 weights as on the CPU records):
#   1. resnet20-paper-gpu: ResNet-20 with the paper's own recipe (64k iterations of batch 128,
#      lr 0.1 /10 at 32k and 48k; Table 6: 8.75 %), seeds 0 and 1;
#   2. densenet-eq: DenseNet-BC L=52 k=12 against ResNet-20 at equal parameters (~0.27M), the
#      `densenet` study's full mode (60 epochs), seeds 0 and 1;
#   3. efficientnet-scaling-gpu: the `efficientnet_scaling` record design (B0 at half width
#      scaled ~2.9x four ways, 10 epochs), seeds 0 and 1;
#   4. the record designs of mobilenet_conv and densenet_bc28 (the CPU records' settings, on
#      the GPU), seeds 0 and 1, a process per variant: mobilenet-conv-gpu, densenet-bc28-gpu;
#   5. the mobilenet record design, seeds 0 and 1: mobilenet-gpu.
# Every process takes up to 8 steps per call from Python (`--steps-per-execution auto`: the same
# math, fewer dispatches). Tiers 3-5 start only while tier 1 keeps the pace it needs to finish
# before the deadline, and `guard` stops them if tier 1 falls behind (the top priority); every
# job stops at the deadline, and only finished runs are recorded (`cnn-keras record`, no
# checkpoints) into OUT/records.tar.gz. What one call can hold was measured on an H200 with 16
# Xeon cores (docs/claims.md, "Records for a GPU"): XLA's compile and the per-step work on the
# CPU bound these small nets, so run one tier per call, tier 1 first (TIERS=1).
#
#   KERAS_BACKEND=jax timeout -k 10 570 bash benchmarks/gpu_records.sh OUT [DEADLINE_S]
#
# DEADLINE_S (default 480) is when training stops; summaries and records take up to a minute
# more. Keep the whole call well inside the device's 10-minute limit: the first attempt (a
# 480 s deadline in a 600 s call, with `nvidia-smi -l` writing under OUT in the background and
# processes stopped by SIGTERM alone) ran into the limit, and nothing under OUT came back.
#
# `python` must be the interpreter that has JAX: on the device machine that is the venv's
# python3, so make `python` a wrapper script (`exec /path/to/venv/python3 "$@"`); a symlink to it
# loses the venv.
# Environment: CNN_KERAS_DATA (CIFAR-10 folder or zip); TIERS (default "1": one tier per call,
# the measured plan); RUNS (the run folders, default /tmp/gpu-records: checkpoints stay out of
# OUT); MODE=quick for a CPU smoke test (every study's quick mode; no pace check). Writes
# OUT/records.tar.gz (the records), OUT/logs.tar.gz (one log per process) and OUT/summary.log.
set -uo pipefail
out=${1:?usage: gpu_records.sh OUT [DEADLINE_S]}
deadline=$(( $(date +%s) + ${2:-480} ))  # training stops here
quick=$([ "${MODE:-}" = quick ] && echo 1 || echo 0)
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # some 20 processes share the GPU's memory
tiers=" ${TIERS:-1} "  # one tier per call: what one call holds (docs/claims.md)
tier() { [[ "$tiers" == *" $1 "* ]]; }
runs=${RUNS:-/tmp/gpu-records}
logs=$runs/logs
mkdir -p "$out" "$logs"
python -c "from cnn_keras import data; data.load_cifar10()" || exit 1  # decode once, cached

mode() { [ "$quick" = 1 ] && echo quick || echo "$1"; }
record() { [ "$2" = 0 ] && echo "$1" || echo "$1-seed$2"; }

launch() {  # launch LOG ARGS...: one training process, stopped at the deadline
  local log=$1; shift
  local left=$(( deadline - $(date +%s) ))
  [ "$left" -gt 30 ] || { echo "no time left for $log"; return; }
  timeout -k 10 "$left" python -m cnn_keras "$@" --dtype-policy float32 \
    --steps-per-execution auto \
    > "$logs/$log.log" 2>&1 &
  echo $! >> "$pids"  # `guard` stops the processes of tiers 3-5 by these
}
pids=/dev/null

records=$runs/records
mkdir -p "$records"

summarize() {  # summarize RECORD KIND NAME MODE SEED VARIANTS...: figure, summary and record
  local rec=$1 kind=$2 name=$3 m=$4 seed=$5; shift 5
  local dir=$runs/$rec v
  if [ "$(date +%s)" -gt $(( deadline + 45 )) ]; then echo "$rec: no time left to record"; return; fi
  for v in "$@"; do
    if ! grep -qs '"status": "finished"' "$dir/$v/run.json"; then
      echo "$rec: $v unfinished, not recorded; epochs done per variant:"
      grep -H -c . "$dir"/*/history.csv; return
    fi
  done
  local pick=--variants; [ "$kind" = degradation ] && pick=--models
  timeout -k 5 60 python -m cnn_keras "$kind" $([ "$kind" = ablation ] && echo "$name") \
    --mode "$m" --seed "$seed" --out "$dir" --dtype-policy float32 --steps-per-execution auto \
    "$pick" "$@" 2>&1 \
    | grep -v Warning | tail -n 6
  timeout -k 5 30 python -m cnn_keras record "$dir" "$records/$rec" | tail -n 1
}

job() {  # job RECORD KIND NAME MODE SEED VARIANTS...: a process per variant (a group
  # "a b" in one process, one after the other), then the record
  local rec=$1 kind=$2 name=$3 m=$4 seed=$5; shift 5
  local pick=--variants; [ "$kind" = degradation ] && pick=--models
  for group in "$@"; do
    launch "$rec-${group// /-}" "$kind" $([ "$kind" = ablation ] && echo "$name") \
      --mode "$m" --seed "$seed" --out "$runs/$rec" "$pick" $group
  done
  wait
  local all=(); for group in "$@"; do all+=($group); done
  set -- "${all[@]}"
  summarize "$rec" "$kind" "$name" "$m" "$seed" "$@" > "$logs/summary-$rec.txt" 2>&1
}

for seed in 0 1; do  # tiers 1 and 2
  tier 1 && job "$(record resnet20-paper-gpu "$seed")" degradation - "$(mode full)" \
    "$seed" resnet20 &
  tier 2 && job "$(record densenet-eq "$seed")" ablation densenet "$(mode full)" \
    "$seed" k12 resnet20 &
done

pace_ok() {  # ResNet-20 seed 0 on course to finish its 164 epochs 40 s before the deadline
  { [ "$quick" = 1 ] || ! tier 1; } && return 0
  local h=$runs/resnet20-paper-gpu/resnet20/history.csv
  [ -f "$h" ] || return 1
  local done last
  done=$(( $(wc -l < "$h") - 1 ))
  [ "$done" -ge 3 ] || return 1
  last=$(tail -n 1 "$h" | awk -F, '{print $NF}')  # the last epoch's seconds
  awk -v d="$done" -v s="$last" -v left=$(( deadline - $(date +%s) - 40 )) \
    'BEGIN { need = (164 - d) * s; print "tier 1 pace: " d " epochs, " s " s/epoch, needs " \
             int(need) " s of " left; exit !(need < left) }'
}

paced() {  # paced SECONDS_LEFT_NEEDED: wait until tier 1 keeps its pace (false: never did)
  { [ "$quick" = 1 ] || ! tier 1; } && return 0
  while [ $(( deadline - $(date +%s) )) -gt "$1" ]; do
    pace_ok && return 0
    sleep 10
  done
  return 1
}
guard() {  # while tiers 3-5 train: stop them all once tier 1 falls behind its pace (the GPU's
  # time is shared between processes, and tier 1 comes first)
  sleep 30
  while [ $(( deadline - $(date +%s) )) -gt 60 ]; do
    local alive=0 p
    for p in $(cat "$pids"); do kill -0 "$p" 2> /dev/null && alive=1; done
    [ "$alive" = 1 ] || return
    if ! pace_ok > /dev/null; then
      echo "tier 1 fell behind its pace: stopping tiers 3-5"; pace_ok
      for p in $(cat "$pids"); do kill "$p" 2> /dev/null; done
      return
    fi
    sleep 15
  done
}
pids=$runs/tiers3-5.pids
: > "$pids"
if tier 3 && paced 240; then
  for seed in 0 1; do
    job "$(record efficientnet-scaling-gpu "$seed")" ablation efficientnet_scaling \
      "$(mode record)" "$seed" depth width resolution compound &
  done
  sleep 45
fi
if tier 4 && paced 300; then  # a process per variant: each fits in the deadline alone
  for seed in 0 1; do
    job "$(record mobilenet-conv-gpu "$seed")" ablation mobilenet_conv "$(mode record)" \
      "$seed" separable full thin shallow &
    job "$(record densenet-bc28-gpu "$seed")" ablation densenet_bc28 "$(mode record)" \
      "$seed" resnet20 bc28_k12 bc28_k6 b28_k12 &
  done
  sleep 60; pace_ok  # the pace with every process running, for the log
fi
if tier 5 && paced 300; then
  for seed in 0 1; do
    job "$(record mobilenet-gpu "$seed")" ablation mobilenet "$(mode record)" "$seed" \
      "a1.0 a0.75 a0.5 a0.25" "r28 r24 r20" &
  done
fi
[ "$quick" = 1 ] || guard &
wait
echo "all done $(( $(date +%s) - deadline )) s after the training deadline"
cat "$logs"/summary-*.txt | tee "$out/summary.log"
tar -czf "$out/records.tar.gz" -C "$records" . && tar -czf "$out/logs.tar.gz" -C "$logs" .
ls -la "$out"
