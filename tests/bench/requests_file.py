"""The requests a run replays, written once to a file that both load generators read.

One request per line, tab-separated: method, path, bearer token (or nothing), JSON body (or
nothing). wrk's Lua script (requests.lua) and loadgen.py parse the same lines, so every
target and either generator replay exactly the same requests in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    token: str | None = None
    body: dict[str, object] | None = None

    def line(self) -> str:
        body = orjson.dumps(self.body).decode() if self.body is not None else ""
        fields = (self.method, self.path, self.token or "", body)
        if any("\t" in field or "\n" in field for field in fields):
            raise ValueError(f"a request field holds a tab or a newline: {self!r}")
        return "\t".join(fields)


def write(path: Path, requests: list[Request]) -> Path:
    path.write_text("".join(f"{request.line()}\n" for request in requests), encoding="utf-8")
    return path


def read_raw(path: Path, host: str) -> list[bytes]:
    """Each line as the HTTP/1.1 request bytes a keep-alive client sends."""
    raw = []
    for line in path.read_text(encoding="utf-8").splitlines():
        method, target, token, body = line.split("\t")
        head = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body:
            head += ["Content-Type: application/json", f"Content-Length: {len(body.encode())}"]
        raw.append(("\r\n".join(head) + "\r\n\r\n" + body).encode())
    return raw
