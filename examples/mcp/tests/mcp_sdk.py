"""Drives the MCP example with the official `mcp` Python SDK's Streamable HTTP
client; `sys.argv[1]` is the server's `/mcp` URL, `sys.argv[2]` the check. The
last line printed is JSON of what was seen, which the Rust test asserts on."""

import asyncio
import json
import sys
from importlib.metadata import version

import anyio
import httpx2 as httpx
from mcp import Client
from mcp.shared.exceptions import MCPError


def method_of(message):
    """The method of a server notification, however the SDK wraps it."""
    for candidate in (message, getattr(message, "root", None)):
        method = getattr(candidate, "method", None)
        if isinstance(method, str):
            return method, getattr(candidate, "params", None)
    return None, None


async def tour(url, mode):
    """Everything a client does in one session: version, tools, a quick
    call, a streamed call with progress, resources, ping, errors."""
    seen = {"sdk": version("mcp")}
    progress = []

    async def on_progress(done, total, message):
        progress.append([done, total, message])

    async with Client(url, mode=mode) as client:
        seen["protocol"] = client.protocol_version
        seen["server"] = client.server_info.name if client.server_info else None
        seen["tools"] = [tool.name for tool in (await client.list_tools()).tools]
        echo = await client.call_tool("echo", {"text": "hello, mcp"})
        seen["echo"] = echo.content[0].text
        countdown = await client.call_tool(
            "countdown", {"from": 3, "delay_ms": 20}, progress_callback=on_progress
        )
        seen["countdown"] = countdown.content[0].text
        seen["progress"] = progress
        seen["resources"] = [str(r.uri) for r in (await client.list_resources()).resources]
        info = await client.read_resource("info://server")
        seen["info"] = json.loads(info.contents[0].text)["name"]
        try:
            await client.call_tool("nope", {})
        except MCPError as err:
            seen["unknown_tool"] = err.code
        try:
            await client.call_tool("countdown", {"from": "three", "delay_ms": 1})
        except MCPError as err:
            seen["bad_params"] = err.code
        try:
            await client.read_resource("note://missing")
        except MCPError as err:
            seen["missing_resource"] = err.code
        if mode == "legacy":
            await client.send_ping()
            seen["ping"] = True
    return seen


async def subscribed(url):
    """A subscription to the note, heard on the session's own stream after
    another client writes it."""
    heard = []
    got = anyio.Event()

    async def on_message(message):
        method, params = method_of(message)
        if method == "notifications/resources/updated":
            heard.append(str(params.uri))
            got.set()

    async with Client(url, mode="legacy", message_handler=on_message) as listener:
        await listener.subscribe_resource("note://current")
        async with Client(url, mode="legacy") as writer:
            # The listener's GET stream may still be opening: write until heard.
            with anyio.fail_after(10):
                n = 0
                while not got.is_set():
                    n += 1
                    await writer.call_tool("write_note", {"text": f"note {n}"})
                    with anyio.move_on_after(0.5):
                        await got.wait()
        note = await listener.read_resource("note://current")
    return {"heard": heard[:1], "note": note.contents[0].text.startswith("note ")}


async def resumed(url):
    """A countdown whose stream the server cuts (MCP_HOLD): the SDK resumes
    it with GET and Last-Event-ID; every step arrives once, in order."""
    progress = []

    async def on_progress(done, total, message):
        progress.append(done)

    async with Client(url, mode="legacy") as client:
        result = await client.call_tool(
            "countdown", {"from": 6, "delay_ms": 60}, progress_callback=on_progress
        )
    return {"result": result.content[0].text, "progress": progress}


async def cancelled(url):
    """A countdown the client gives up on: the SDK sends
    notifications/cancelled, which stops the work."""
    async with Client(url, mode="legacy") as client:
        with anyio.move_on_after(0.3):
            await client.call_tool("countdown", {"from": 50, "delay_ms": 50})
        # The session still works after it.
        echo = await client.call_tool("echo", {"text": "still here"})
    return {"after": echo.content[0].text}


async def ended(url):
    """Leaving the client ends its session (DELETE); the id then gets 404."""
    ids = []

    async def remember(request):
        sid = request.headers.get("mcp-session-id")
        if sid:
            ids.append(sid)

    async with httpx.AsyncClient(event_hooks={"request": [remember]}) as http:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.client.session import ClientSession

        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await session.list_tools()
    async with httpx.AsyncClient() as http:
        after = await http.post(
            url,
            headers={
                "mcp-session-id": ids[-1],
                "accept": "application/json, text/event-stream",
                "content-type": "application/json",
            },
            json={"jsonrpc": "2.0", "id": 9, "method": "ping"},
        )
    return {"status_after_end": after.status_code}


async def balanced(url):
    """Through a load balancer: a session, a countdown whose cut stream is
    resumed on whichever instance the balancer picks; then, once the test
    has killed the instance that began the session (it says when, on stdin),
    the same session goes on."""
    ids = []

    async def remember(request):
        sid = request.headers.get("mcp-session-id")
        if sid:
            ids.append(sid)

    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    seen = {}
    async with httpx.AsyncClient(event_hooks={"request": [remember]}) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                before = []

                async def on_before(done, total, message):
                    before.append(done)

                first = await session.call_tool(
                    "countdown", {"from": 6, "delay_ms": 100}, progress_callback=on_before
                )
                seen["before"] = [first.content[0].text, before]
                print(json.dumps({"session": ids[-1]}), flush=True)
                await anyio.to_thread.run_sync(sys.stdin.readline)
                after = []

                async def on_after(done, total, message):
                    after.append(done)

                echo = await session.call_tool("echo", {"text": "still here"})
                second = await session.call_tool(
                    "countdown", {"from": 3, "delay_ms": 100}, progress_callback=on_after
                )
                tools = await session.list_tools()
                seen["after"] = [echo.content[0].text, second.content[0].text, after]
                seen["tools"] = len(tools.tools)
                seen["same_session"] = len(set(ids)) == 1
    return seen


async def main():
    url, check = sys.argv[1], sys.argv[2]
    if check == "legacy":
        seen = await tour(url, "legacy")
    elif check == "auto":
        seen = await tour(url, "auto")
    elif check == "subscribe":
        seen = await subscribed(url)
    elif check == "resume":
        seen = await resumed(url)
    elif check == "cancel":
        seen = await cancelled(url)
    elif check == "balanced":
        seen = await balanced(url)
    elif check == "end":
        seen = await ended(url)
    else:
        raise SystemExit(f"unknown check {check}")
    print(json.dumps(seen))


asyncio.run(main())
