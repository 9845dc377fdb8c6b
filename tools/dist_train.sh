#!/usr/bin/env bash
# Distributed training on one or more machines with torchrun.
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# Without CUDA, GPUS processes train on the CPU with the gloo backend (each process gets
# OMP_NUM_THREADS=1 unless set). Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT.
# A config with `strategy=dict(type='FSDPStrategy' | 'DeepSpeedStrategy')` is sharded over the
# GPUS processes (MMEngine's FlexibleRunner; README "Scaling up"), e.g.
#   bash tools/dist_train.sh configs/sharded/videomaev2_vit-g-p14_ft-16x4-fsdp_8xb4-3e_k400.py 8
set -euo pipefail
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-python}
if [[ -z "${OMP_NUM_THREADS:-}" ]]; then export OMP_NUM_THREADS=1; fi

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
