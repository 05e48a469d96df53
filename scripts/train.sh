#!/usr/bin/env bash
# Launch a TerraSense training config with LLaMA-Factory on one GPU, many GPUs or many nodes (torchrun).
#
#   scripts/train.sh configs/terrasense_sft.yaml [key=value ...]      # key=value overrides the YAML
#
# Multi-node: run the same command on every node with NNODES, NODE_RANK, MASTER_ADDR (node 0's address) and
# MASTER_PORT set, e.g. on 2 nodes of 8 GPUs:
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 scripts/train.sh configs/terrasense_sft.yaml
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 scripts/train.sh configs/terrasense_sft.yaml
#
# Environment (defaults in brackets):
#   NNODES [1]  NODE_RANK [0]  MASTER_ADDR [127.0.0.1]  MASTER_PORT [29500]
#   NPROC_PER_NODE   processes (GPUs) per node [nvidia-smi's GPU count, else 1]
#   EFFECTIVE_BATCH  global batch [16]; gradient_accumulation_steps is set so that
#                    PER_DEVICE_BATCH x gradient_accumulation_steps x NNODES x NPROC_PER_NODE = EFFECTIVE_BATCH
#   PER_DEVICE_BATCH per_device_train_batch_size [1]
# FORCE_TORCHRUN=1 is always set: DeepSpeed needs a distributed launch even on one GPU.
set -euo pipefail

die() { echo "train.sh: error: $*" >&2; exit 2; }

[[ $# -ge 1 ]] || die "usage: scripts/train.sh CONFIG.yaml [key=value ...]"
config=$1
shift
[[ -f $config ]] || die "config $config not found"

NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}
if [[ -z ${NPROC_PER_NODE:-} ]]; then
  NPROC_PER_NODE=$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU' || true)
  [[ $NPROC_PER_NODE -ge 1 ]] || NPROC_PER_NODE=1
fi
EFFECTIVE_BATCH=${EFFECTIVE_BATCH:-16}
PER_DEVICE_BATCH=${PER_DEVICE_BATCH:-1}

for name in NNODES NODE_RANK MASTER_PORT NPROC_PER_NODE EFFECTIVE_BATCH PER_DEVICE_BATCH; do
  [[ ${!name} =~ ^[0-9]+$ ]] || die "$name must be a non-negative integer, got '${!name}'"
done
(( NODE_RANK < NNODES )) || die "NODE_RANK must be < NNODES=$NNODES, got $NODE_RANK"
per_step=$(( NNODES * NPROC_PER_NODE * PER_DEVICE_BATCH ))
(( per_step > 0 && EFFECTIVE_BATCH % per_step == 0 )) ||
  die "EFFECTIVE_BATCH=$EFFECTIVE_BATCH must be a positive multiple of NNODES x NPROC_PER_NODE x PER_DEVICE_BATCH = $per_step"
accum=$(( EFFECTIVE_BATCH / per_step ))

export FORCE_TORCHRUN=1 NNODES NODE_RANK NPROC_PER_NODE MASTER_ADDR MASTER_PORT
cmd=(llamafactory-cli train "$config" "per_device_train_batch_size=$PER_DEVICE_BATCH" "gradient_accumulation_steps=$accum" "$@")
command -v llamafactory-cli >/dev/null || die "llamafactory-cli not found; pip install 'terrasense[train]' (llamafactory==0.9.5)"
echo "train.sh: node $NODE_RANK of $NNODES, $NPROC_PER_NODE processes, batch $PER_DEVICE_BATCH x $accum x $(( NNODES * NPROC_PER_NODE )) = $EFFECTIVE_BATCH" >&2
exec "${cmd[@]}"
