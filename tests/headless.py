"""Open a page in headless Chromium over the DevTools protocol and report what a person would see go wrong.

``load_page(url)`` starts Chromium with a throw-away profile, opens ``url``, waits until it has loaded and returns
every console error, uncaught exception and failed resource load (``Log.entryAdded`` at level ``error``, which is
where Chromium reports a missing image), plus the result of a JavaScript expression evaluated in the page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

#: Seconds to wait for Chromium to start, answer or load; generous because CI machines can be heavily loaded.
TIMEOUT = 180.0

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    """Path of a Chromium binary; raises with the install command when there is none."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("no Chromium found; install it (Debian: apt-get install -y chromium)")


class _Session:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv(timeout=TIMEOUT))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)


def load_page(url: str, expression: str) -> tuple[list[str], Any]:
    """Load ``url`` headless; return ``(errors, value of expression)`` once the document is complete.

    ``errors`` lists console errors, uncaught exceptions and failed loads, one line each.
    """
    profile = tempfile.mkdtemp(prefix="ts_chromium_")
    cmd = [
        find_chromium(),
        "--headless=new",
        "--no-sandbox",  # CI containers run as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--allow-file-access-from-files",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not start (exit status {proc.poll()})")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as ws:
            cdp = _Session(ws)
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            sid = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                cdp.send(f"{domain}.enable", session=sid)
            cdp.events.clear()
            cdp.send("Page.navigate", {"url": url}, session=sid)
            # poll rather than wait for Page.loadEventFired: the blank page's own load event can arrive late and
            # be taken for ours
            state = "document.readyState + ' ' + location.href"
            deadline = time.monotonic() + TIMEOUT
            while True:
                got = cdp.send("Runtime.evaluate", {"expression": state, "returnByValue": True}, session=sid)
                if got.get("result", {}).get("value") == f"complete {url}":
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not finish loading within {TIMEOUT} s (last state {got})")
                time.sleep(0.05)
            # one more round trip through the page's task queue, so that late console and log events are in
            settle = {"expression": "new Promise(r => setTimeout(r, 100))", "awaitPromise": True}
            cdp.send("Runtime.evaluate", settle, session=sid)
            value = cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=sid)
            errors = []
            for e in cdp.events:
                method, params = e.get("method"), e.get("params", {})
                if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                    errors.append("console: " + " ".join(str(a.get("value", a)) for a in params.get("args", [])))
                elif method == "Runtime.exceptionThrown":
                    errors.append("exception: " + str(params.get("exceptionDetails", {}).get("text")))
                elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                    entry = params["entry"]
                    errors.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
            return errors, value.get("result", {}).get("value")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
