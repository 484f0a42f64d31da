"""One measurement of one scenario with Python's huggingface_hub InferenceClient, as a JSON line.

Run by `cargo xtask bench` (from the venv it makes under target/bench/):
    python bench_hub.py <scenario> <base-url> <seconds> [streams]
The scenarios and the server are the same as for `hfi-bench` (bench/src/main.rs).
"""

import asyncio
import json
import resource
import sys
import time

import httpx2
from huggingface_hub import AsyncInferenceClient, InferenceClient
from huggingface_hub.utils import _http

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def sequential(seconds, call):
    warm = time.perf_counter()
    while time.perf_counter() - warm < seconds / 10:
        call()
    start = time.perf_counter()
    count = 0
    while time.perf_counter() - start < seconds:
        count += call()
    return count, time.perf_counter() - start


async def in_flight(seconds, call):
    state = {"counting": False, "stop": False, "count": 0}

    async def worker():
        while not state["stop"]:
            await call()
            if state["counting"]:
                state["count"] += 1

    tasks = [asyncio.create_task(worker()) for _ in range(64)]
    await asyncio.sleep(seconds / 10)
    start = time.perf_counter()
    state["counting"] = True
    await asyncio.sleep(seconds)
    state["counting"] = False
    elapsed = time.perf_counter() - start
    state["stop"] = True
    await asyncio.gather(*tasks)
    return state["count"], elapsed


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    scenario, base, seconds = sys.argv[1], sys.argv[2].rstrip("/"), float(sys.argv[3])
    streams = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    extra = {}
    if scenario == "chat-seq":
        client = InferenceClient(model=base)

        def call():
            out = client.chat_completion(MESSAGES, max_tokens=64)
            return 1 if out.choices else 0

        n, t = sequential(seconds, call)
        value, unit = n / t, "req/s"
    elif scenario == "chat-64":

        async def run():
            async with AsyncInferenceClient(model=base) as client:

                async def call():
                    out = await client.chat_completion(MESSAGES, max_tokens=64)
                    assert out.choices

                return await in_flight(seconds, call)

        n, t = asyncio.run(run())
        value, unit = n / t, "req/s"
    elif scenario == "stream":
        client = InferenceClient(model=f"{base}/stream")

        def call():
            chunks = 0
            for chunk in client.chat_completion([{"role": "user", "content": "Hello"}], stream=True):
                chunks += len(chunk.choices)
            return chunks

        n, t = sequential(seconds, call)
        value, unit = n / t, "chunks/s"
    elif scenario == "embed":
        client = InferenceClient()

        def call():
            out = client.feature_extraction("Today is a sunny day", model=f"{base}/embed")
            assert out.shape == (64, 1024), out.shape
            return 1

        n, t = sequential(seconds, call)
        value, unit = n / t, "resp/s"
    elif scenario == "image":
        client = InferenceClient()

        def call():
            image = client.text_to_image("An astronaut riding a horse", model=f"{base}/image")
            assert image.size[0] > 0
            return 1

        n, t = sequential(seconds, call)
        value, unit = n / t, "resp/s"
    elif scenario == "streams-1000":
        # httpx's default pool holds 100 connections: lift it, as a user opening 1,000 streams must.
        _http.set_async_client_factory(
            lambda: httpx2.AsyncClient(limits=httpx2.Limits(max_connections=None, max_keepalive_connections=None))
        )

        async def run():
            async with AsyncInferenceClient(model=f"{base}/slow") as client:

                async def open_one():
                    stream = await client.chat_completion([{"role": "user", "content": "Hello"}], stream=True)
                    await stream.__anext__()
                    return stream

                opened = await asyncio.gather(*(open_one() for _ in range(streams)))
                peak = peak_rss_mib()
                for stream in opened:
                    await stream.aclose()
                return peak

        value, unit = asyncio.run(run()), "MiB peak RSS"
        extra = {"streams": streams}
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps({"client": "python", "scenario": scenario, "value": value, "unit": unit, "extra": extra}))


if __name__ == "__main__":
    main()
