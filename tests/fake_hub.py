"""A Hugging Face Hub stand-in on 127.0.0.1 serving one dataset repo at one commit: the endpoints
huggingface_hub's `dataset_info`, `list_repo_tree` and file downloads use, so the real client's
download path runs offline. It records which files were downloaded."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


class FakeHub:
    def __init__(self, repo: str, files: dict[str, bytes], commit: str = "c0ffee" * 6 + "abcd") -> None:
        self.repo, self.files, self.commit = repo, files, commit
        self.downloaded: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                hub.answer(self, body=False)

            def do_GET(self) -> None:
                hub.answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, request: BaseHTTPRequestHandler, body: bool) -> None:
        path = unquote(urlparse(request.path).path)
        api, resolve = f"/api/datasets/{self.repo}", f"/datasets/{self.repo}/resolve/"
        if path in (api, f"{api}/revision/main", f"{api}/revision/{self.commit}"):
            siblings = [{"rfilename": name} for name in sorted(self.files)]
            self.send(request, json.dumps({"id": self.repo, "sha": self.commit, "siblings": siblings}).encode(), body)
        elif path.startswith(f"{api}/tree/{self.commit}"):
            tree = [
                {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                for name, data in sorted(self.files.items())
            ]
            self.send(request, json.dumps(tree).encode(), body)
        elif path.startswith(resolve) and path[len(resolve) :].split("/", 1)[1] in self.files:
            name = path[len(resolve) :].split("/", 1)[1]
            data = self.files[name]
            if body:
                self.downloaded.append(name)
            headers = {"X-Repo-Commit": self.commit, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
            self.send(request, data, body, headers)
        else:
            self.send(request, b'{"error": "Repository not found"}', body, {"X-Error-Code": "RepoNotFound"}, 404)

    @staticmethod
    def send(request, data: bytes, body: bool, headers: dict | None = None, status: int = 200) -> None:
        request.send_response(status)
        for key, value in {"Content-Length": str(len(data)), **(headers or {})}.items():
            request.send_header(key, value)
        request.end_headers()
        if body:
            request.wfile.write(data)
