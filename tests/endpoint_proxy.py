"""A small real HTTP server for the endpoint tests: a faulty proxy in front of a model server.

    python tests/endpoint_proxy.py --upstream http://127.0.0.1:PORT [--fail-first N]
        [--fail-status 503] [--retry-after S] [--garbage-first N] [--only-model NAME]
    python tests/endpoint_proxy.py --ignore-schema      (answers itself, no upstream)
    python tests/endpoint_proxy.py --answer JSON        (answers JSON to every file)
    python tests/endpoint_proxy.py --answer JSON --context N   (and refuses over N tokens)
    python tests/endpoint_proxy.py --answer JSON --forbid-nth N   (403 to the Nth request)

It prints ``READY <port>`` once it listens. The first N chat requests get the
failure (an HTTP status with Retry-After, or a 200 with a body that is not a chat
completion); later ones are forwarded unchanged. ``--ignore-schema`` plays a
server that ignores response_format and answers JSON of the wrong shape; ``--answer``
one that gives the same answer for every file. ``--only-model NAME`` answers a chat
request for any other model 404 "model not found", as vLLM and Ollama do
(llama-cpp-python serves its one model whatever the name). ``--context N`` answers
a request whose ``max_tokens`` plus its prompt (counted as characters / 4) exceeds N
with HTTP 400 and vLLM's context-length message (llama-cpp-python clips the answer
instead). ``--forbid-nth N`` answers the Nth chat request 403, as a filter in front of
a server does for content it blocks.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import aiohttp
from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--retry-after", default="1")
    parser.add_argument("--garbage-first", type=int, default=0)
    parser.add_argument("--ignore-schema", action="store_true")
    parser.add_argument("--answer", help="the content of every answer (no upstream)")
    parser.add_argument("--only-model")
    parser.add_argument("--context", type=int, help="the context size a server refuses over")
    parser.add_argument("--forbid-nth", type=int, default=0)
    args = parser.parse_args()
    counts = {"chat": 0}

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "smollm2", "object": "model"}]})

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        asked = json.loads(body).get("model")
        if args.only_model and asked != args.only_model:
            return web.json_response({"error": {"message": f'model "{asked}" not found, try '
                                                           "pulling it first",
                                                "type": "not_found_error"}}, status=404)
        if args.context:
            request_json = json.loads(body)
            prompt = sum(len(m.get("content") or "") for m in request_json["messages"]) // 4
            wanted = int(request_json.get("max_tokens") or 0)
            if prompt + wanted > args.context:
                return web.json_response({"error": {
                    "message": f"This model's maximum context length is {args.context} tokens. "
                               f"However, you requested {prompt + wanted} tokens ({prompt} in "
                               f"the messages, {wanted} in the completion).",
                    "type": "BadRequestError"}}, status=400)
        counts["chat"] += 1
        n = counts["chat"]
        if n == args.forbid_nth:
            return web.json_response({"error": {"message": "blocked by the content policy",
                                                "type": "forbidden"}}, status=403)
        if n <= args.fail_first:
            return web.Response(status=args.fail_status, text="busy",
                                headers={"Retry-After": args.retry_after})
        if n <= args.fail_first + args.garbage_first:
            return web.Response(status=200, text="<html>not a completion</html>",
                                content_type="text/html")
        if args.ignore_schema or args.answer:
            content = args.answer or json.dumps({"summary": 42, "category": "poetry"})
            return web.json_response({
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 8}})
        async with request.app["session"].post(
                args.upstream + request.path, data=body,
                headers={"Content-Type": "application/json"}) as resp:
            return web.Response(status=resp.status, body=await resp.read(),
                                content_type="application/json")

    async def start() -> None:
        app = web.Application()
        app["session"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))
        app.router.add_get("/v1/models", models)
        app.router.add_post("/v1/chat/completions", chat)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(start())


if __name__ == "__main__":
    main()
