"""Many concurrent idle connections (issue 16, part 3): leakguard holds 2,000 keep-alive client
connections at once, each with an origin connection behind it, every one of them is still served
afterwards, and once they close leakguard's descriptor count is back where it started. Memory per
connection is measured in bench/connections_bench.py, not asserted here."""

import asyncio
import os
import resource

import pytest

CONNECTIONS = 2000
BODY = b"ok\n"


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def nofile():
    """leakguard holds two descriptors per connection and this process two (client and origin):
    raise the soft limit (the child inherits it) for the test, then restore it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * CONNECTIONS + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {needed}: cannot hold {CONNECTIONS} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    return head.split(b" ", 2)[1], await reader.readexactly(length)


async def hold_many(proxy):
    async def serve(reader, writer):
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    origin = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    port = origin.sockets[0].getsockname()[1]
    limit = asyncio.Semaphore(128)

    async def exchange(connection, path):
        reader, writer = connection
        writer.write(f"GET http://127.0.0.1:{port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        return await asyncio.wait_for(read_response(reader), 30)

    async def open_one(i):
        async with limit:
            connection = await asyncio.open_connection("127.0.0.1", proxy.port)
            assert await exchange(connection, f"/first/{i}") == (b"200", BODY)
            return connection

    async with origin:
        baseline = open_fds(proxy.process.pid)
        connections = await asyncio.gather(*(open_one(i) for i in range(CONNECTIONS)))
        held = open_fds(proxy.process.pid)
        # Every connection is still served: the second request on each, all at once.
        answers = await asyncio.gather(*(exchange(c, f"/second/{i}") for i, c in enumerate(connections)))
        for _, writer in connections:
            writer.close()
        deadline = asyncio.get_running_loop().time() + 30
        after = open_fds(proxy.process.pid)
        while after > baseline and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            after = open_fds(proxy.process.pid)
    return baseline, held, answers, after


def test_thousands_of_idle_connections_are_held_served_and_released(leakguard_factory, nofile):
    proxy = leakguard_factory({"limits": {"max_connections": CONNECTIONS + 100}})
    assert proxy.process.poll() is None
    baseline, held, answers, after = asyncio.run(hold_many(proxy))
    assert held >= baseline + 2 * CONNECTIONS, "each connection holds a client and an origin descriptor"
    assert answers.count((b"200", BODY)) == CONNECTIONS
    assert after == baseline, f"descriptors leaked: {after} open after close, {baseline} before"
    assert proxy.process.poll() is None
