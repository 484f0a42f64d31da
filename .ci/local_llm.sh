#!/usr/bin/env bash
# The two llama.cpp `llama-server` instances that tests/tests/local_server*.rs talk to, on
# loopback, with the tiny generated test model (../shared/reference/local-server.md):
#   - an open one (chat, completions, embeddings, tools, JSON schema, the 400);
#   - one started with `--api-key`, for the 401 (and the accepted key).
#
#   .ci/local_llm.sh start STATE_DIR   # build or reuse the server and model, start both, print `export …` lines
#   .ci/local_llm.sh stop STATE_DIR    # stop both
#
#   eval "$(.ci/local_llm.sh start /tmp/hf-inference-llm)"   # then: cargo test -p hf-inference-tests --test local_server
#
# The build (llama.cpp from the pinned llama-cpp-python sdist on PyPI, ~5 min on 2 cores) and the
# model are done by ../shared/tools/local_llm_server.sh (override: LOCAL_LLM_SERVER_SH) and cached
# in ${LLM_CACHE:-$HOME/.cache/tiny-llm}. Everything but the `export` lines goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOL="${LOCAL_LLM_SERVER_SH:-$ROOT/../shared/tools/local_llm_server.sh}"

log() { echo "[local_llm] $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_healthy() { # PORT PID LOG
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  log "llama-server on port $1 did not start:"; tail -20 "$3" >&2; return 1
}

start() {
  local state="$1"
  [ -x "$TOOL" ] || [ -f "$TOOL" ] || { log "not found: $TOOL (set LOCAL_LLM_SERVER_SH)"; return 1; }
  mkdir -p "$state/open" "$state/keyed"
  bash "$TOOL" setup >&2
  bash "$TOOL" start "$state/open" >&2

  # The keyed instance runs the very binary and model the shared script just started (its
  # command line names both), so the two can never drift apart.
  local pid bin model
  pid="$(cat "$state/open/pid")"
  mapfile -d '' -t argv <"/proc/$pid/cmdline"
  bin="${argv[0]}"; model=""
  for i in "${!argv[@]}"; do [ "${argv[$i]}" = "-m" ] && model="${argv[$((i + 1))]}"; done
  [ -n "$model" ] || { log "cannot read the model path from pid $pid"; return 1; }

  local port key
  port="$(free_port)"
  key="hfi-test-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  "$bin" -m "$model" --host 127.0.0.1 --port "$port" -a tiny -c 4096 -np 1 \
      --offline --no-webui --api-key "$key" >"$state/keyed/server.log" 2>&1 &
  echo $! >"$state/keyed/pid"
  wait_healthy "$port" "$(cat "$state/keyed/pid")" "$state/keyed/server.log"
  log "keyed llama-server ready on 127.0.0.1:$port (pid $(cat "$state/keyed/pid"))"

  echo "export HF_INFERENCE_TEST_LLAMA_URL=$(cat "$state/open/base_url")"
  echo "export HF_INFERENCE_TEST_LLAMA_KEYED_URL=http://127.0.0.1:$port/v1"
  echo "export HF_INFERENCE_TEST_LLAMA_API_KEY=$key"
}

stop() {
  local state="$1"
  bash "$TOOL" stop "$state/open" >&2 || true
  if [ -f "$state/keyed/pid" ]; then
    local pid; pid="$(cat "$state/keyed/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$state/keyed/pid"
  fi
}

case "${1:-}" in
  start) start "${2:?state dir}" ;;
  stop) stop "${2:?state dir}" ;;
  *) echo "usage: $0 start STATE_DIR | stop STATE_DIR" >&2; exit 2 ;;
esac
