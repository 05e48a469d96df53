#!/usr/bin/env bash
# Serve a TerraSense checkpoint (full-SFT output_dir or merged LoRA export_dir) with vLLM's OpenAI-compatible server.
#
#   scripts/serve_vllm.sh saves/terrasense-qwen2.5-vl-7b/full/sft [extra `vllm serve` flags]   (or a Hub id org/name)
#   terrasense predict --endpoint http://127.0.0.1:8000/v1 --input data/converted/dior/test-00000.jsonl --out preds.jsonl
#
# Run it in its OWN environment: vLLM pins transformers/torch versions that clash with llamafactory 0.9.5's, e.g.
#   python -m venv .venv-serve && .venv-serve/bin/pip install vllm && VLLM=.venv-serve/bin/vllm scripts/serve_vllm.sh ...
# Needs an NVIDIA GPU.
#
# Environment (defaults in brackets):
#   HOST [127.0.0.1]  PORT [8000]  SERVED_MODEL_NAME [terrasense]
#   TP                tensor parallel size: GPUs per model replica [1]
#   MAX_MODEL_LEN     context length [8192]: system + prompt + two images (~1.5k tokens at 768x768) + answer
#   MIN_PIXELS / MAX_PIXELS  processor limits [3136 / 589824]: MAX_PIXELS must be the training image_max_pixels.
#                     vLLM only applies the processor's resize, not LLaMA-Factory's pre-scaling: images larger than
#                     MAX_PIXELS can come out a few pixels different; send pre-resized images
#                     (terrasense predict --image-max-pixels ...) so Qwen2.5-VL pixel boxes use the training frame.
#   GPU_MEMORY_UTILIZATION [0.90]   DTYPE [bfloat16]   VLLM [vllm]   the vllm executable
#   API_KEY           when set, clients must send it as a Bearer token
set -euo pipefail

die() { echo "serve_vllm.sh: error: $*" >&2; exit 2; }

[[ $# -ge 1 ]] || die "usage: scripts/serve_vllm.sh MODEL_DIR [extra vllm serve flags]"
model=$1
shift
if [[ -e $model || $model != */* ]]; then  # a local path (a Hub id org/name is passed to vLLM as it is)
  [[ -f $model/config.json ]] || die "$model has no config.json; pass a checkpoint folder or a Hub id org/name"
fi

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SERVED_MODEL_NAME=${SERVED_MODEL_NAME:-terrasense}
TP=${TP:-1}
MAX_MODEL_LEN=${MAX_MODEL_LEN:-8192}
MIN_PIXELS=${MIN_PIXELS:-3136}
MAX_PIXELS=${MAX_PIXELS:-589824}
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.90}
DTYPE=${DTYPE:-bfloat16}
VLLM=${VLLM:-vllm}

for name in PORT TP MAX_MODEL_LEN MIN_PIXELS MAX_PIXELS; do
  [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, got '${!name}'"
done
command -v "$VLLM" >/dev/null || die "'$VLLM' not found; install vllm in its own environment and set VLLM=/path/to/vllm"

args=(
  serve "$model"
  --host "$HOST"
  --port "$PORT"
  --served-model-name "$SERVED_MODEL_NAME"
  --tensor-parallel-size "$TP"
  --max-model-len "$MAX_MODEL_LEN"
  --enable-prefix-caching
  --limit-mm-per-prompt '{"image": 2, "video": 0}'
  --mm-processor-kwargs "{\"min_pixels\": $MIN_PIXELS, \"max_pixels\": $MAX_PIXELS}"
  --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION"
  --dtype "$DTYPE"
)
[[ -n ${API_KEY:-} ]] && args+=(--api-key "$API_KEY")
exec "$VLLM" "${args[@]}" "$@"
