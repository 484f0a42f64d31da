#!/usr/bin/env python3
"""Seeds the fuzz corpora from the recorded answers of the conformance tapes.

Usage: fuzz/seed.py [TAPES_DIR]  (default: ../shared/conformance/tapes beside the repository)
Writes fuzz/corpus/{sse,task_outputs,provider_answer}/ (ignored by git). Each target's input
layout is described in sdk/src/fuzzing.rs: `sse` and `provider_answer` read a first byte (a
chunk-size seed, a (provider, task) pick) before the body. The README's Reliability section has
the commands that run the targets.
"""
import hashlib
import json
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent
tapes = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent.parent / "shared" / "conformance" / "tapes"
if not tapes.is_dir():
    sys.exit(f"no tapes at {tapes}")

corpus = {name: here / "corpus" / name for name in ("sse", "task_outputs", "provider_answer")}
for folder in corpus.values():
    folder.mkdir(parents=True, exist_ok=True)


def write(target, data):
    name = hashlib.sha1(data).hexdigest()
    (corpus[target] / name).write_bytes(data)


counts = {name: 0 for name in corpus}
for path in sorted(tapes.glob("*.json")):
    response = json.loads(path.read_text()).get("response") or {}
    if "body_json" in response:
        body = json.dumps(response["body_json"]).encode()
    elif "body_text" in response:
        body = response["body_text"].encode()
    else:
        continue
    if response.get("is_sse"):
        for seed in (0, 7, 63):
            write("sse", bytes([seed]) + body)
            counts["sse"] += 1
    write("task_outputs", body)
    counts["task_outputs"] += 1
    if "body_json" in response:
        # A few (provider, task) picks per answer; the fuzzer mutates the pick byte too.
        digest = hashlib.sha1(body).digest()
        for pick in sorted(set(digest[:4])):
            write("provider_answer", bytes([pick]) + body)
            counts["provider_answer"] += 1

print("seeded", ", ".join(f"{name}: {n}" for name, n in counts.items()), "from", tapes)
