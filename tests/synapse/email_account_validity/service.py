#!/usr/bin/env python3
"""Runs the chat host's scenarios for the email account validity port against an SMTP sink
(tests/chat_host/smtp_sink.py, Debian's python3-aiosmtpd), started here on 127.0.0.1:
scenario.json with the sink up, then scenario_down.json after it has stopped. Fails unless both
pass and the sink received the renewal mails, each with a renewal link.

  service.py --host modkit-chat-host --config config.json.in --up up.json --down down.json

The config's {smtp_url} becomes the sink's URL.
"""
import email
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SINK = os.path.join(HERE, "..", "..", "chat_host", "smtp_sink.py")
LINK = re.compile(r"https://chat\.example\.org/_synapse/client/email_account_validity/renew\?token=[a-zA-Z]{32}")


def body_text(data):
    """Every text part of a mail, decoded (the chat host sends them base64-encoded)."""
    message = email.message_from_string(data)
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(p.get_payload(decode=True).decode("utf-8") for p in parts if not p.is_multipart())


def start(work):
    """The sink, appending each mail it accepts to work/mails.jsonl; (process, its URL)."""
    # Debian's interpreter: aiosmtpd is a Debian package.
    sink = subprocess.Popen(["/usr/bin/python3", SINK, os.path.join(work, "mails.jsonl")], stdout=subprocess.PIPE,
                            text=True)
    return sink, f"smtp://127.0.0.1:{int(sink.stdout.readline())}"


def stop(sink):
    sink.terminate()
    sink.wait(timeout=10)


def received_both(work):
    """scenario.json asks for two renewal mails: both reached the sink, each with a link."""
    path = os.path.join(work, "mails.jsonl")
    mails = []
    if os.path.exists(path):
        with open(path) as f:
            mails = [json.loads(line) for line in f]
    linked = [m for m in mails if m["to"] == ["alice@example.org"] and LINK.search(body_text(m["data"]))]
    print(f"the sink received {len(mails)} mail(s), {len(linked)} to alice with a renewal link")
    return len(mails) == 2 and len(linked) == 2


def main():
    sys.path.insert(0, os.path.dirname(HERE))
    import scenario_driver
    return scenario_driver.main(__doc__.split("\n\n")[0], "{smtp_url}", start, stop, received_both)


if __name__ == "__main__":
    sys.exit(main())
