"""Browser tabs for `bench.app`, played by `gradio_client`s in a process of their own.

Real users' browsers do not run in the server's process. Clients in the bench's own process
share its interpreter lock with Gradio's server and the model's threads, so their polling and
JSON decoding lengthened the very turns they timed. `Tabs` starts one child process (spawned, so
no model or server state is inherited) that owns every client of one app; the parent sends it
plain dicts over a pipe and gets plain dicts back.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass


def texts(chat) -> list[str]:
    """The text of each chat message, as the page shows it."""
    out = []
    for m in chat or []:
        c = m["content"]
        out.append("".join(b.get("text", "") for b in c) if isinstance(c, list) else str(c))
    return out


@dataclass
class Answer:
    """One streamed answer, timed on the client: submit to first text, and to the end."""

    ttft_s: float
    total_s: float


def one_question(client, question: str, tokens: int, name: str) -> Answer:
    start = time.perf_counter()
    job = client.submit(question, 0.0, 1.0, tokens, -1, name, api_name="/ask")
    first, seen = None, 0
    while not job.done():
        outs = job.outputs()
        if first is None and len(outs) > seen:
            for out in outs[seen:]:
                shown = texts(out[0])
                if shown and shown[-1].strip():
                    first = time.perf_counter() - start
                    break
            seen = len(outs)
        time.sleep(0.005)
    job.result()  # raises what the server raised
    total = time.perf_counter() - start
    return Answer(first if first is not None else total, total)


class TabGroup:
    """n gradio_clients on one app, each with the clip open; runs questions in an arrival pattern."""

    def __init__(self, url: str, clip: str):
        self.url, self.clip, self.clients = url, clip, []

    def open(self, n: int) -> dict:
        from gradio_client import Client, handle_file

        while len(self.clients) < n:
            client = Client(self.url, verbose=False)
            client.predict(handle_file(self.clip), api_name="/open_motion")
            self.clients.append(client)
        return {"open": len(self.clients)}

    def run(self, n: int, turns: int, arrival: str, think_s: float, tokens: int) -> dict:
        """Conversations cleared, each of n tabs asks `turns` questions; client-side seconds."""
        from bench.serving import drive

        out: dict = {"ttft": [], "turn": [], "failures": []}
        lock = threading.Lock()
        for client in self.clients[:n]:
            client.predict(api_name="/clear")

        def ask(i: int, question: str) -> None:
            try:
                a = one_question(self.clients[i], question, tokens, f"bench{i}")
            except Exception as exc:  # noqa: BLE001 - counted and printed by the parent
                with lock:
                    out["failures"].append(f"{n} clients: {exc!r}")
                return
            with lock:
                out["ttft"].append(a.ttft_s)
                out["turn"].append(a.total_s)

        out["wall_s"] = drive(n, turns, ask, arrival, think_s)
        return out


def _child(conn, url: str, clip: str) -> None:
    group = TabGroup(url, clip)
    while True:
        msg = conn.recv()
        op = msg.pop("op")
        if op == "quit":
            conn.close()
            return
        try:
            conn.send(getattr(group, op)(**msg))
        except Exception as exc:  # noqa: BLE001 - the parent raises it with the child's words
            conn.send({"error": repr(exc)})


class Tabs:
    """The parent's handle on a TabGroup: in a child process (default), or here (in_process)."""

    def __init__(self, url: str, clip: str, in_process: bool = False):
        self._local = TabGroup(url, clip) if in_process else None
        if self._local is None:
            ctx = multiprocessing.get_context("spawn")
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(target=_child, args=(child, url, clip), daemon=True)
            self._proc.start()

    def _call(self, op: str, **kw) -> dict:
        if self._local is not None:
            return getattr(self._local, op)(**kw)
        self._conn.send({"op": op, **kw})
        reply = self._conn.recv()
        if "error" in reply:
            raise RuntimeError(f"tab process, {op}: {reply['error']}")
        return reply

    def open(self, n: int) -> None:
        self._call("open", n=n)

    def run(self, n: int, turns: int, arrival: str, think_s: float, tokens: int) -> dict:
        return self._call("run", n=n, turns=turns, arrival=arrival, think_s=think_s, tokens=tokens)

    def close(self) -> None:
        if self._local is None and self._proc.is_alive():
            self._conn.send({"op": "quit"})
            self._proc.join(timeout=30)
