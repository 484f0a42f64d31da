#!/usr/bin/env bash
# Runs the examples of sdk/examples that can talk to a local OpenAI-compatible server against the
# llama-server of .ci/local_llm.sh (the tiny test model answers every prompt with "Hello from the
# tiny test model"), and checks what each prints. The other examples need the real service
# (HF_TOKEN) and are only built.
#
#   eval "$(.ci/local_llm.sh start /tmp/hf-inference-llm)"
#   cargo build -p hf-inference --examples --features blocking
#   .ci/examples.sh
#
# The examples run with an empty environment (no HF_TOKEN, no token file), so nothing but the
# loopback server can answer them.
set -euo pipefail
cd "$(dirname "$0")/.."

url="${HF_INFERENCE_TEST_LLAMA_URL:?no llama-server: eval \"\$(.ci/local_llm.sh start /tmp/hf-inference-llm)\" first}"
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/examples"
reply="Hello from the tiny test model"
failed=0

# check NAME EXPECTED-LINES [VAR=VALUE…] -- ARGS…: runs example NAME and compares its stdout with
# EXPECTED-LINES exactly.
check() {
  local name="$1" expected="$2"; shift 2
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  local out status=0
  out="$(env -i PATH="$PATH" HF_HOME=/nonexistent NO_PROXY=127.0.0.1 "${vars[@]}" \
    timeout 60 "$bin/$name" "$@" 2>/tmp/example-$$.err)" || status=$?
  if [ "$status" -ne 0 ] || [ "$out" != "$expected" ]; then
    echo "FAIL $name (exit $status)"
    echo "--- expected:"; echo "$expected"; echo "--- got:"; echo "$out"; cat /tmp/example-$$.err
    failed=1
  else
    echo "ok   $name: $(tr '\n' ' ' <<<"$out" | cut -c1-100)"
  fi
  rm -f /tmp/example-$$.err
}

check local_server "$reply" -- "$url"
check inference_endpoint_url "client model: $reply
per call: $reply" -- "$url"
check openai_style_streaming "$reply" ENDPOINT_URL="$url" --
check blocking_chat "$reply
$reply" ENDPOINT_URL="$url" --
check tool_calling "no tool call: $reply" ENDPOINT_URL="$url" --
# `required`: llama-server constrains the answer to a call of the one tool.
check tool_calling 'get_weather({"location":"lorem ipsum"})' ENDPOINT_URL="$url" -- required
# The JSON schema constrains the answer: the book's two fields, parsed and printed.
check structured_output '{
  "name": "lorem ipsum",
  "authors": [
    "lorem ipsum"
  ]
}' ENDPOINT_URL="$url" --

check timeout "$reply" ENDPOINT_URL="$url" --
# A server that accepts connections and never answers: the timeout example gives up after 0.5 s
# with the typed error it matches on.
silent_port="$(mktemp)"
python3 -c '
import socket
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(8)
print(server.getsockname()[1], flush=True)
held = []
while True:
    held.append(server.accept()[0])
' >"$silent_port" &
silent_pid=$!
trap 'kill "$silent_pid" 2>/dev/null || true; rm -f "$silent_port"' EXIT
for _ in $(seq 1 50); do [ -s "$silent_port" ] && break; sleep 0.1; done
check timeout "Inference timed out after 500ms." ENDPOINT_URL="http://127.0.0.1:$(cat "$silent_port")/v1" -- 0.5

exit "$failed"
