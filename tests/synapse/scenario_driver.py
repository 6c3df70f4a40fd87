"""What the ports' service.py scripts share: start a real service on 127.0.0.1, run the chat
host's scenario.json with it up, stop it, run scenario_down.json (the failure mode), and fail
unless both pass.

A script calls main() with start(work_dir) -> (handle, value), stop(handle) and the config
template's placeholder, which becomes value; after_up(work_dir), if given, checks what the
service saw and returns False on a problem.
"""
import argparse
import os
import subprocess
import sys
import tempfile


def run_host(host, config_path, scenario):
    print(f"== {os.path.basename(scenario)} ==", flush=True)
    return subprocess.run([host, "--config", config_path, "--scenario", scenario], timeout=120).returncode


def main(description, placeholder, start, stop, after_up=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", required=True, help="the modkit-chat-host binary")
    parser.add_argument("--config", required=True, help="the config template (%s)" % placeholder)
    parser.add_argument("--up", required=True, help="the scenario run while the service is up")
    parser.add_argument("--down", required=True, help="the scenario run after it stopped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modkit-port-") as work:
        handle, value = start(work)
        try:
            with open(args.config) as f:
                config = f.read().replace(placeholder, value)
            config_path = os.path.join(work, "config.json")
            with open(config_path, "w") as f:
                f.write(config)
            up = run_host(args.host, config_path, args.up)
        finally:
            stop(handle)
        checked = after_up(work) if after_up else True
        down = run_host(args.host, config_path, args.down)
    if up != 0 or down != 0 or not checked:
        print(f"{os.path.basename(sys.argv[0])}: the scenarios exited {up} (service up) and {down} (service down)"
              + ("" if checked else "; the service did not see what was expected"), file=sys.stderr)
        return 1
    return 0
