#!/usr/bin/python3
"""An SMTP sink on 127.0.0.1 for the chat host's tests (aiosmtpd, Debian's python3-aiosmtpd).

    smtp_sink.py OUT [--refuse]

Listens on a port the kernel picks and prints it on the first line of stdout. Each mail it
accepts is appended to OUT as one JSON line: {"from": ..., "to": [...], "data": "..."}. With
--refuse, every recipient is refused with 550. Runs until killed.
"""
import asyncio
import json
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, refuse):
        self.out = out
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                "data": envelope.content.decode("utf-8", "replace")}) + "\n")
        return "250 OK"


async def main():
    sink = Sink(sys.argv[1], "--refuse" in sys.argv[2:])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
