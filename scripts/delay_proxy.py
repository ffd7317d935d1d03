#!/usr/bin/env python3
"""A loopback TCP proxy that delays what clients send by a fixed time (the replies go back at
once), so that a latency measured through it must come out as that delay plus what the broker
and the client add. Used by scripts/bench-load.sh.

    delay_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS

Each chunk a client sends is forwarded DELAY_MS after it arrived, in order. Prints "ready" once
listening."""
import asyncio
import socket
import sys


def quickack(writer):
    """Acknowledge at once what was just read (Linux; the flag does not stick). A broker with
    Nagle's algorithm on (mosquitto's default) otherwise holds its next small packet until the
    proxy's delayed ACK, up to 40 ms: the proxy would add its own delay to the one it promises."""
    sock = writer.get_extra_info("socket")
    if sock is not None and hasattr(socket, "TCP_QUICKACK"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


async def pipe_delayed(reader, writer, delay, own):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            quickack(own)
            queue.put_nowait((loop.time() + delay, data))
    finally:
        queue.put_nowait((0, None))
        await sender


async def pipe(reader, writer, own):
    try:
        while data := await reader.read(65536):
            quickack(own)
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def main():
    listen, target, delay_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe_delayed(client_reader, server_writer, delay_ms / 1000.0, client_writer),
            pipe(server_reader, client_writer, server_writer),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
