"""modkit-chat-host as the chat host benchmarks run it: a config written to a work directory,
the host serving on a free loopback port, its log in a file, stopped with SIGTERM."""
import json
import os
import re
import signal
import subprocess
import sys
import time


class ChatHost:
    def __init__(self, binary, config, workdir, name="host"):
        self.config_path = os.path.join(workdir, "config-%s.json" % name)
        self.log_path = os.path.join(workdir, "%s.log" % name)
        with open(self.config_path, "w") as f:
            json.dump(config, f)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([binary, "--config", self.config_path, "--listen", "127.0.0.1:0"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        self.base = self.wait_until_serving()
        self.port = int(self.base.rsplit(":", 1)[1])

    def wait_until_serving(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                m = re.search(r"serving on (http://[0-9.]+:[0-9]+)", f.read())
            if m:
                return m.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(self.log_path) as f:
            sys.exit("%s: the chat host did not start:\n%s" % (os.path.basename(sys.argv[0]), f.read()))

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def emit(doc, out=None):
    """Prints a driver's result as one line of JSON, and writes it to out too when given."""
    text = json.dumps(doc)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    print(text)
