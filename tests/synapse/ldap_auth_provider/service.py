#!/usr/bin/env python3
"""Runs the chat host's scenarios for the LDAP port against Debian's slapd, started here on
127.0.0.1 with its own config and data in a temporary directory (slapd.conf.in, and the
original suite's directory.ldif): scenario.json with the server up, then scenario_down.json
after it has stopped. Fails unless both pass. Nothing of the system's LDAP configuration is
used or changed.

  service.py --host modkit-chat-host --config config.json.in --up up.json --down down.json

The config's {ldap_uri} becomes the server's URI.
"""
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_slapd(work):
    """Loads the directory and starts slapd in the foreground; returns (process, URI)."""
    os.makedirs(os.path.join(work, "data"))
    with open(os.path.join(HERE, "slapd.conf.in")) as f:
        conf = f.read().replace("{dir}", work).replace("{root_dse}", "")
    conf_path = os.path.join(work, "slapd.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    subprocess.run(["/usr/sbin/slapadd", "-s", "-f", conf_path, "-l", os.path.join(HERE, "directory.ldif")],
                   check=True, capture_output=True)
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}"
    log = open(os.path.join(work, "slapd.log"), "w")
    process = subprocess.Popen(["/usr/sbin/slapd", "-f", conf_path, "-h", uri + "/", "-d", "0"],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, uri
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                with open(os.path.join(work, "slapd.log")) as f:
                    raise SystemExit("service.py: slapd did not start: " + f.read())
            time.sleep(0.02)


def stop(slapd):
    slapd.terminate()
    slapd.wait(timeout=10)


def main():
    sys.path.insert(0, os.path.dirname(HERE))
    import scenario_driver
    return scenario_driver.main(__doc__.split("\n\n")[0], "{ldap_uri}", start_slapd, stop)


if __name__ == "__main__":
    sys.exit(main())
