"""A TCP proxy on loopback that makes a local server feel like one across the internet.

Every chunk of bytes is delivered ``--delay`` seconds after it was read, in each
direction (so a request/response round trip costs ``2 * delay`` more). The TCP
handshake is modelled too: bytes a client sends cannot reach the server before
``3 * delay`` after the connection was accepted (SYN, SYN-ACK, then the data's
own trip), as a real connect costs one round trip before the first request.
TLS is not modelled (plain HTTP): a real registry adds one more round trip or
two per new connection, which makes connection reuse matter even more there.

Bandwidth is not limited: the registry answers here are a few hundred bytes.

Bounded: it listens on 127.0.0.1 only, forwards only to ``--target`` (which must
be a loopback address), stops by itself after ``--lifetime`` seconds, after
``--max-connections`` connections, or when its parent process goes away.

Two lines per connection are appended to ``--log`` (if given)::

    open <n> <accepted, monotonic seconds>
    conn <n> <accepted> <closed> <bytes client->server> <bytes server->client>

(the first when it is accepted, the second when it ends), which lets a
benchmark count connections per run.

Usage::

    python bench/latency_proxy.py --target 127.0.0.1:5000 --delay 0.025 \
        --port-file /tmp/port --lifetime 1800
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import signal
import sys
import time
from typing import Optional

CHUNK = 65536


class Stats:
    def __init__(self) -> None:
        self.opened = 0
        self.active = 0


async def _pump(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        delay: float,
        not_before: float,
        counter: list[int],
        index: int,
) -> None:
    """Copy reader -> writer, each chunk delivered ``delay`` after it was read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def receive() -> None:
        while True:
            try:
                data = await reader.read(CHUNK)
            except (ConnectionError, OSError):
                data = b''
            due = max(loop.time() + delay, not_before)
            await queue.put((due, data))
            if not data:
                return
            counter[index] += len(data)

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                return

    receiver = asyncio.create_task(receive())
    try:
        await deliver()
    finally:
        receiver.cancel()


class Proxy:
    def __init__(self, target: tuple[str, int], delay: float, log: Optional[str],
                 max_connections: int) -> None:
        self.target = target
        self.delay = delay
        self.log = open(log, 'a', buffering=1) if log else None  # noqa: SIM115
        self.max_connections = max_connections
        self.stats = Stats()
        self.done = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        self.stats.opened += 1
        self.stats.active += 1
        number = self.stats.opened
        counter = [0, 0]
        if self.log is not None:
            self.log.write(f'open {number} {accepted:.6f}\n')
        if number >= self.max_connections:
            self.done.set()
        try:
            try:
                server_r, server_w = await asyncio.open_connection(*self.target)
            except OSError:
                client_w.close()
                return
            up = asyncio.create_task(_pump(
                client_r, server_w, self.delay, accepted + 3 * self.delay, counter, 0))
            down = asyncio.create_task(_pump(
                server_r, client_w, self.delay, 0.0, counter, 1))
            await asyncio.gather(up, down, return_exceptions=True)
            for w in (server_w, client_w):
                try:
                    w.close()
                except OSError:
                    pass
        finally:
            self.stats.active -= 1
            if self.log is not None and not self.log.closed:
                self.log.write(
                    f'conn {number} {accepted:.6f} {loop.time():.6f} {counter[0]} {counter[1]}\n')

    async def serve(self, port: int, port_file: Optional[str], lifetime: float) -> None:
        server = await asyncio.start_server(self._track, '127.0.0.1', port, backlog=512)
        actual = server.sockets[0].getsockname()[1]
        if port_file:
            tmp = f'{port_file}.tmp'
            with open(tmp, 'w') as f:
                f.write(f'{actual}\n')
            os.replace(tmp, port_file)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.done.set)
        parent = os.getppid()
        deadline = loop.time() + lifetime
        async with server:
            while not self.done.is_set() and loop.time() < deadline:
                if os.getppid() != parent:  # the parent died: stop
                    break
                try:
                    await asyncio.wait_for(self.done.wait(), timeout=0.5)
                except asyncio.TimeoutError:
                    pass
            server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.log is not None:
            self.log.close()

    async def _track(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(r, w)
        except asyncio.CancelledError:
            w.close()  # shutting down
        finally:
            self._tasks.discard(task)


def _loopback_target(spec: str) -> tuple[str, int]:
    host, _, port = spec.rpartition(':')
    if not ipaddress.ip_address(host.strip('[]')).is_loopback:
        raise SystemExit(f'latency_proxy: target {spec!r} is not a loopback address')
    return host.strip('[]'), int(port)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--target', required=True, help='HOST:PORT on loopback')
    parser.add_argument('--port', type=int, default=0, help='listen port (default: any free one)')
    parser.add_argument('--port-file', help='write the port listened on here once ready')
    parser.add_argument('--delay', type=float, default=0.025, help='seconds each way (default 0.025)')
    parser.add_argument('--lifetime', type=float, default=3600.0, help='stop after this many seconds')
    parser.add_argument('--max-connections', type=int, default=1_000_000)
    parser.add_argument('--log', help='append a line per connection opened and per connection ended here')
    args = parser.parse_args(argv)
    proxy = Proxy(_loopback_target(args.target), args.delay, args.log, args.max_connections)
    started = time.monotonic()
    asyncio.run(proxy.serve(args.port, args.port_file, args.lifetime))
    print(f'latency_proxy: {proxy.stats.opened} connections in '
          f'{time.monotonic() - started:.0f}s, stopped', file=sys.stderr)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
