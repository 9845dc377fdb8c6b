#!/usr/bin/env bash
# Training on a Slurm cluster.
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
# GPUS (total, default 8), GPUS_PER_NODE (8), CPUS_PER_TASK (10: the official data loaders use
# 10 workers per GPU), SRUN_ARGS (extra srun options, e.g. "--quotatype=auto").
# Sharded configs (FSDP / DeepSpeed `strategy`) launch the same way, one task per GPU, e.g. the
# paper's ViT-g pretraining on 8 nodes:
#   GPUS=64 bash tools/slurm_train.sh PART vitg \
#     configs/sharded/videomaev2_vit-g-p14_dual-mask-fsdp_64xb32-1200e_hybrid.py work_dirs/vitg
# A sharded checkpoint (state_dict_cfg='sharded') resumes on the same GPUS (--resume).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-10}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=("${@:5}")
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm "${PY_ARGS[@]}"
