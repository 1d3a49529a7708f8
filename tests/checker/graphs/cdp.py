"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no websocket, no downloads).

Chromium started with ``--remote-debugging-pipe`` reads JSON commands, each
ended by a NUL byte, from file descriptor 3 and writes replies and events the
same way to descriptor 4. That is all a test needs to open a page, press
keys, query the DOM and take screenshots in headless Debian Chromium.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-pipe"]


class BrowserUnavailable(RuntimeError):
    """Chromium is not installed or does not start here."""


def chromium_path() -> str | None:
    """The Chromium binary, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium with a fresh profile, driven over the DevTools pipe."""

    def __init__(self, timeout: float = 30.0) -> None:
        path = chromium_path()
        if path is None:
            raise BrowserUnavailable("chromium is not installed (apt-get install chromium)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="ringcheck-chromium-")
        self._errors = tempfile.TemporaryFile()
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen([path, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._errors, preexec_fn=wire, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next = 0
        try:
            self.call("Browser.getVersion")
        except (TimeoutError, BrokenPipeError, EOFError) as e:
            err = self._stderr_tail()
            self.close()
            raise BrowserUnavailable(f"chromium did not start ({type(e).__name__}): {err}") from None

    def _stderr_tail(self) -> str:
        if self.proc.poll() is None:
            return "still running, no reply on the DevTools pipe"
        self._errors.seek(0)
        lines = self._errors.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exited with status {self.proc.returncode}"

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no DevTools message in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise EOFError("chromium closed the DevTools pipe")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, session: str | None = None, **params: object) -> dict:
        """Send one command and wait for its reply; RuntimeError on a protocol error."""
        self._next += 1
        msg: dict = {"id": self._next, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str) -> "Page":
        """A new tab showing ``url``, fully loaded (not the about:blank it starts as)."""
        target = self.call("Target.createTarget", url=url)["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        deadline = time.monotonic() + self.timeout
        loaded = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
        while page.eval(loaded) is not True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load")
            time.sleep(0.05)
        return page

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close")
                except (TimeoutError, BrokenPipeError, EOFError, RuntimeError, OSError):
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self._to_chrome, self._from_chrome):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._errors.close()
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: evaluate JavaScript, press keys, take screenshots."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session
        browser.call("Page.enable", session)
        browser.call("Page.bringToFront", session)

    def eval(self, expression: str) -> object:
        """The value of a JavaScript expression in the page."""
        r = self.browser.call("Runtime.evaluate", self.session, expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JavaScript error: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def set_viewport(self, width: int, height: int) -> None:
        """Lay the page out as in a window of ``width`` x ``height`` CSS pixels (scale 1, not mobile)."""
        self.browser.call("Emulation.setDeviceMetricsOverride", self.session, width=width, height=height,
                          deviceScaleFactor=1, mobile=False)

    def press(self, key: str, code: int) -> None:
        """Press and release one key (e.g. ``ArrowRight``, 39) as a user would."""
        for kind in ("rawKeyDown", "keyUp"):
            self.browser.call("Input.dispatchKeyEvent", self.session, type=kind, key=key, code=key,
                              windowsVirtualKeyCode=code, nativeVirtualKeyCode=code)

    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        import base64
        return base64.b64decode(self.browser.call("Page.captureScreenshot", self.session, format="png")["data"])
