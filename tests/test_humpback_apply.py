"""The generated humpback/apply.py against a stand-in for Humpback 1.x.

There is no Humpback here, so a small HTTP server on loopback (http.server in a
thread) behaves as facts/humpback.md tells of Humpback 1.x's web API: login
sets the ``humpback.session.id`` cookie, GET /api/system-config needs no login,
PUT replaces the whole stored document, adds ``"ID": 1`` and a random ``_id``
on first save, refuses a changed ``_id`` and, without ``Content-Type:
application/json``, stores ``{}`` and still answers ``{"result": true}``. Two
tests check the stand-in itself against those facts. The script is run as an
administrator runs it: ``python3 apply.py`` with the password in the
environment.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import html
import http.cookies
import json
import os
import secrets
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import BuildSpec
from realtools import free_port, require_tool

PASSWORD = "123456"
PASSWORD_VARIABLE = "HUMPBACK_PASSWORD"
SESSION_COOKIE = "humpback.session.id"
SPEC = "registry:\n  server: 192.168.1.10\n"
REGISTRY_URL = "http://192.168.1.10:5000"
# A spec deciding every System Config field, cluster mode off.
CLUSTER_SPEC = """\
registry:
  server: 192.168.1.10
humpback:
  cluster_mode: false
  center_api: http://10.0.0.5:8589
  top_news: "镜像仓库 192.168.1.10:5000"
"""
# What an administrator set by hand in Humpback's System Config page.
CLUSTER_CONFIG: dict[str, Any] = {
    "EnablePrivateRegistry": False,
    "PrivateRegistry": "",
    "EnableClusterMode": True,
    "HumpbackCenterAPI": "http://192.168.1.20:8589",
    "TopNews": "<b>maintenance on Friday</b>",
    "ID": 1,
    "_id": "Xq3mB2pLk9Vt7RzA",
}
SCRIPT_TIMEOUT = 60.0
HTTP_TIMEOUT = 10.0
SERVER_STOP_TIMEOUT = 5.0
# Seconds between shutdown checks of the stand-in (the default 0.5 s slows teardown).
SERVER_POLL_INTERVAL = 0.05
# Variables that would send urllib through a proxy.
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})

# Errors as Humpback 1.x reports them: JSON when asked for JSON, else
# Express's development error page (see error_page). The frames are made up.
SESSION_TRACE = {
    "message": "Cannot read properties of undefined (reading 'IsAdmin')",
    "stack": "TypeError: Cannot read properties of undefined (reading 'IsAdmin')\n"
    "    at /humpback-web/server/controllers/user.js:41:25\n"
    "    at Layer.handle [as handle_request] "
    "(/humpback-web/node_modules/express/lib/router/layer.js:95:5)",
}
ID_CHANGE_TRACE = {
    "message": "You cannot change a document's _id",
    "stack": "Error: You cannot change a document's _id\n"
    "    at Datastore.update (/humpback-web/node_modules/nedb/lib/datastore.js:596:21)",
}


def error_page(trace: dict[str, str]) -> bytes:
    """Express's default error page in development mode, for a stack trace."""
    stack = (
        html.escape(trace["stack"])
        .replace("\n", "<br>")
        .replace("    ", " &nbsp; &nbsp;")
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Error</title>\n</head>\n<body>\n<pre>{stack}</pre>\n</body>\n</html>\n"
    ).encode()


@dataclass(frozen=True)
class Seen:
    """One request the stand-in received."""

    method: str
    path: str
    content_type: str | None
    body: bytes


@dataclass(frozen=True)
class Canned:
    """A fixed answer the stand-in gives to GET /api/system-config."""

    status: int
    body: bytes
    content_type: str


class FakeHumpback(ThreadingHTTPServer):
    """Humpback 1.x's login and System Config API, as facts/humpback.md tells."""

    daemon_threads = True

    def __init__(self, stored: dict[str, Any] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _HumpbackHandler)
        # User ID -> (password, administrator?)
        self.users = {"admin": (PASSWORD, True), "guest": ("guest-pw-77", False)}
        self.stored: dict[str, Any] = dict(stored or {})
        self.sessions: dict[str, str] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        # Misbehaviours a test can ask for.
        self.canned_get: Canned | None = None
        self.forget_puts = False

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def puts(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.method == "PUT"]

    def sent(self) -> list[dict[str, Any]]:
        """The JSON bodies of every PUT."""
        return [json.loads(seen.body) for seen in self.puts()]


class _HumpbackHandler(BaseHTTPRequestHandler):
    server: FakeHumpback

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""

    def _receive(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.seen.append(
                Seen(self.command, self.path, self.headers.get("Content-Type"), body)
            )
        return body

    def _parsed(self, body: bytes) -> Any:
        # Express's JSON body parser reads only application/json; for anything
        # else req.body stays {}.
        if self.headers.get_content_type() != "application/json":
            return {}
        return json.loads(body)

    def _answer(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        cookie: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, document: Any, cookie: str | None = None) -> None:
        self._answer(status, json.dumps(document).encode(), cookie=cookie)

    def _error(self, status: int, trace: dict[str, str]) -> None:
        if "application/json" in self.headers.get("Accept", ""):
            self._json(status, trace)
        else:
            self._answer(status, error_page(trace), "text/html; charset=utf-8")

    def _session_user(self) -> str | None:
        cookies = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookies.get(SESSION_COOKIE)
        return None if morsel is None else self.server.sessions.get(morsel.value)

    def do_POST(self) -> None:
        body = self._receive()
        if self.path != "/api/users/login":
            self._json(404, {"message": "not found"})
            return
        credentials = self._parsed(body)
        user = credentials.get("UserID")
        known = self.server.users.get(user) if isinstance(user, str) else None
        if known is None or known[0] != credentials.get("Password"):
            self._json(401, {"message": "UserID or Password error."})
            return
        token = secrets.token_hex(16)
        self.server.sessions[token] = user
        cookie = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly"
        self._json(200, {"UserID": user, "IsAdmin": known[1]}, cookie=cookie)

    def do_GET(self) -> None:
        self._receive()
        if self.path != "/api/system-config":
            self._json(404, {"message": "not found"})
        elif self.server.canned_get is not None:
            canned = self.server.canned_get
            self._answer(canned.status, canned.body, canned.content_type)
        else:
            self._json(200, self.server.stored)

    def do_PUT(self) -> None:
        body = self._receive()
        user = self._session_user()
        if self.path != "/api/system-config":
            self._json(404, {"message": "not found"})
            return
        if user is None:
            # The administrator check reads a property of the missing session.
            self._error(500, SESSION_TRACE)
            return
        if not self.server.users[user][1]:
            self._json(401, {"message": "Permission denied."})
            return
        document = self._parsed(body)
        stored_id = self.server.stored.get("_id")
        if "_id" in document and stored_id not in (None, document["_id"]):
            self._error(500, ID_CHANGE_TRACE)
            return
        if not self.server.forget_puts:
            saved = dict(document)
            saved["ID"] = 1
            saved["_id"] = stored_id or document.get("_id") or secrets.token_hex(8)
            self.server.stored = saved
        self._json(200, {"result": True})


StartHumpback = Callable[..., FakeHumpback]


@pytest.fixture
def start_humpback() -> Iterator[StartHumpback]:
    """Start stand-ins on free loopback ports; all are stopped after the test."""
    with contextlib.ExitStack() as stack:

        def start(stored: dict[str, Any] | None = None) -> FakeHumpback:
            server = FakeHumpback(stored)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": SERVER_POLL_INTERVAL},
                daemon=True,
            )
            thread.start()

            def stop() -> None:
                server.shutdown()
                server.server_close()
                thread.join(SERVER_STOP_TIMEOUT)

            stack.callback(stop)
            return server

        yield start


@pytest.fixture
def script(build_spec: BuildSpec) -> Path:
    """apply.py of the smallest spec, which manages only the registry fields."""
    return build_spec(SPEC) / "humpback" / "apply.py"


def run_apply(
    script: Path,
    *args: str,
    password: str | None = PASSWORD,
    python: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run apply.py as an administrator would, with no proxy in the way."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in PROXY_VARIABLES and name != PASSWORD_VARIABLE
    }
    if password is not None:
        env[PASSWORD_VARIABLE] = password
    return subprocess.run(
        [python or require_tool("python3"), str(script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )


def assert_every_put_was_json(humpback: FakeHumpback) -> None:
    assert [seen.content_type for seen in humpback.puts()] == [
        "application/json"
    ] * len(humpback.puts())


def assert_one_line_without_traceback(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("humpback/apply.py: error: ")
    return line


def _http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, body, headers or {}, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            status: int = response.status
            return status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def _login_cookie(humpback: FakeHumpback) -> str:
    request = urllib.request.Request(
        humpback.url + "/api/users/login",
        json.dumps({"UserID": "admin", "Password": PASSWORD}).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=HTTP_TIMEOUT) as response:
        cookie: str = response.headers["Set-Cookie"].split(";")[0]
        return cookie


# The stand-in itself, against the facts it models.


def test_the_stand_in_wipes_the_config_on_a_put_without_content_type(
    start_humpback: StartHumpback,
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)
    cookie = _login_cookie(humpback)

    status, body = _http(
        "PUT",
        humpback.url + "/api/system-config",
        json.dumps(CLUSTER_CONFIG).encode(),
        {"Cookie": cookie},
    )

    assert (status, json.loads(body)) == (200, {"result": True})
    assert set(humpback.stored) == {"ID", "_id"}


def test_the_stand_in_refuses_a_changed_id_and_a_put_without_session(
    start_humpback: StartHumpback,
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)
    changed = json.dumps({**CLUSTER_CONFIG, "_id": "another"}).encode()
    json_body = {"Content-Type": "application/json"}

    no_session = _http("PUT", humpback.url + "/api/system-config", changed, json_body)
    json_body["Cookie"] = _login_cookie(humpback)
    new_id = _http("PUT", humpback.url + "/api/system-config", changed, json_body)

    assert no_session[0] == 500 and b"<pre>TypeError" in no_session[1]
    assert new_id[0] == 500 and b"You cannot change a document" in new_id[1]
    assert humpback.stored == CLUSTER_CONFIG


# Applying.


def test_a_fresh_humpback_gets_the_managed_fields_and_no_others(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback()

    result = run_apply(script, "--url", humpback.url)

    assert result.returncode == 0, result.stderr
    assert humpback.sent() == [
        {"EnablePrivateRegistry": True, "PrivateRegistry": REGISTRY_URL}
    ]
    assert humpback.stored["PrivateRegistry"] == REGISTRY_URL
    assert humpback.stored["EnablePrivateRegistry"] is True
    assert "EnablePrivateRegistry: (not set) -> true" in result.stdout
    assert f'PrivateRegistry: (not set) -> "{REGISTRY_URL}"' in result.stdout
    assert_every_put_was_json(humpback)


def test_cluster_settings_an_administrator_stored_are_kept_if_the_spec_has_none(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)

    result = run_apply(script, "--url", humpback.url)

    assert result.returncode == 0, result.stderr
    assert humpback.stored == {
        **CLUSTER_CONFIG,
        "EnablePrivateRegistry": True,
        "PrivateRegistry": REGISTRY_URL,
    }
    assert "kept as stored: EnableClusterMode, HumpbackCenterAPI, TopNews" in (
        result.stdout
    )
    assert_every_put_was_json(humpback)


def test_settings_the_spec_decides_replace_the_stored_ones(
    build_spec: BuildSpec, start_humpback: StartHumpback
) -> None:
    script = build_spec(CLUSTER_SPEC) / "humpback" / "apply.py"
    humpback = start_humpback(CLUSTER_CONFIG)

    result = run_apply(script, "--url", humpback.url)

    assert result.returncode == 0, result.stderr
    assert humpback.stored == {
        "EnablePrivateRegistry": True,
        "PrivateRegistry": REGISTRY_URL,
        "EnableClusterMode": False,
        "HumpbackCenterAPI": "http://10.0.0.5:8589",
        "TopNews": "镜像仓库 192.168.1.10:5000",
        "ID": 1,
        "_id": CLUSTER_CONFIG["_id"],
    }
    assert "EnableClusterMode: true -> false" in result.stdout
    assert 'TopNews: "<b>maintenance on Friday</b>" -> "镜像仓库' in result.stdout
    assert_every_put_was_json(humpback)


def test_applying_twice_sends_no_second_put(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)
    assert run_apply(script, "--url", humpback.url).returncode == 0
    stored = dict(humpback.stored)

    result = run_apply(script, "--url", humpback.url)

    assert result.returncode == 0, result.stderr
    assert "already applied" in result.stdout
    assert len(humpback.puts()) == 1
    assert humpback.stored == stored


def test_the_stored_id_and_ID_are_echoed_and_accepted(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)

    result = run_apply(script, "--url", humpback.url)

    assert result.returncode == 0, result.stderr
    [sent] = humpback.sent()
    assert (sent["_id"], sent["ID"]) == (CLUSTER_CONFIG["_id"], 1)


def test_a_new_id_is_never_invented(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback()

    assert run_apply(script, "--url", humpback.url).returncode == 0

    [sent] = humpback.sent()
    assert "_id" not in sent and "ID" not in sent


def test_a_wrong_password_is_one_clear_line_and_sends_no_put(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)

    result = run_apply(script, "--url", humpback.url, password="654321")

    line = assert_one_line_without_traceback(result)
    assert "wrong user or password" in line
    assert humpback.puts() == []
    assert humpback.stored == CLUSTER_CONFIG


def test_a_user_who_is_not_an_administrator_is_told_so(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)

    result = run_apply(
        script, "--url", humpback.url, "--user", "guest", password="guest-pw-77"
    )

    line = assert_one_line_without_traceback(result)
    assert "HTTP 401" in line and "not an administrator" in line
    assert humpback.stored == CLUSTER_CONFIG


def test_without_the_password_variable_nothing_is_sent(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback()

    result = run_apply(script, "--url", humpback.url, password=None)

    assert result.returncode == 2
    assert PASSWORD_VARIABLE in result.stderr
    assert "Traceback" not in result.stderr
    assert humpback.seen == []


def test_the_password_appears_in_no_output(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)
    secret = "Pw-9f3kQz!"
    humpback.users["admin"] = (secret, True)

    runs = [
        run_apply(script, "--url", humpback.url, password=secret),
        run_apply(script, "--url", humpback.url, password=secret),
        run_apply(script, "--url", humpback.url, password=secret + "x"),
        run_apply(script, "--url", humpback.url, "--dry-run", password=secret),
        run_apply(script, "--url", f"http://127.0.0.1:{free_port()}", password=secret),
    ]

    assert [r.returncode for r in runs] == [0, 0, 1, 0, 1]
    for result in runs:
        assert secret not in result.stdout + result.stderr


def test_dry_run_prints_the_merge_and_sends_no_login_and_no_put(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)

    result = run_apply(script, "--url", humpback.url, "--dry-run", password=None)

    assert result.returncode == 0, result.stderr
    assert [seen.method for seen in humpback.seen] == ["GET"]
    assert humpback.stored == CLUSTER_CONFIG
    assert "dry run" in result.stdout
    assert '"HumpbackCenterAPI": "http://192.168.1.20:8589"' in result.stdout
    assert f'"PrivateRegistry": "{REGISTRY_URL}"' in result.stdout


def test_a_trailing_slash_on_the_url_makes_no_double_slash(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback()

    result = run_apply(script, "--url", humpback.url + "/")

    assert result.returncode == 0, result.stderr
    assert {seen.path for seen in humpback.seen} == {
        "/api/users/login",
        "/api/system-config",
    }


def test_the_json_file_beside_the_script_is_what_is_applied(
    script: Path, start_humpback: StartHumpback
) -> None:
    config = script.with_name("system-config.json")
    document = json.loads(config.read_text("utf-8"))
    config.write_text(json.dumps({**document, "PrivateRegistry": "http://r:5000"}))
    humpback = start_humpback()

    assert run_apply(script, "--url", humpback.url).returncode == 0

    assert humpback.stored["PrivateRegistry"] == "http://r:5000"


def test_the_specs_humpback_url_is_the_default_url(
    build_spec: BuildSpec, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback()
    script = (
        build_spec(f"{SPEC}humpback:\n  url: {humpback.url}\n") / "humpback/apply.py"
    )

    result = run_apply(script)

    assert result.returncode == 0, result.stderr
    assert humpback.stored["PrivateRegistry"] == REGISTRY_URL


def test_the_url_is_required_when_the_spec_names_no_humpback(script: Path) -> None:
    result = run_apply(script)

    assert result.returncode == 2
    assert "--url is required" in result.stderr
    assert "Traceback" not in result.stderr


# Failures.


def test_humpback_down_is_one_clear_line_without_a_traceback(script: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run_apply(script, "--url", url)

    line = assert_one_line_without_traceback(result)
    assert f"cannot reach Humpback at {url}" in line
    assert "Connection refused" in line


@pytest.mark.parametrize(
    ("canned", "expected"),
    [
        (
            Canned(500, error_page(SESSION_TRACE), "text/html"),
            "HTTP 500: TypeError: Cannot read properties of undefined "
            "(reading 'IsAdmin')",
        ),
        (
            Canned(500, json.dumps(ID_CHANGE_TRACE).encode(), "application/json"),
            "HTTP 500: You cannot change a document's _id",
        ),
        (
            Canned(
                200,
                b"<html><body><h1>Welcome to nginx!</h1></body></html>",
                "text/html",
            ),
            "the answer is not JSON (Welcome to nginx!)",
        ),
        (
            Canned(200, b'["EnablePrivateRegistry"]', "application/json"),
            'answered ["EnablePrivateRegistry"], not a JSON object',
        ),
    ],
    ids=["html-stack-trace", "json-stack-trace", "not-json", "not-an-object"],
)
def test_a_bad_answer_is_one_line_with_its_status_and_first_line(
    script: Path, start_humpback: StartHumpback, canned: Canned, expected: str
) -> None:
    humpback = start_humpback()
    humpback.canned_get = canned

    result = run_apply(script, "--url", humpback.url)

    line = assert_one_line_without_traceback(result)
    assert expected in line
    assert "Layer.handle" not in line and "datastore.js" not in line
    assert humpback.puts() == []


def test_a_put_that_humpback_did_not_store_is_reported(
    script: Path, start_humpback: StartHumpback
) -> None:
    humpback = start_humpback(CLUSTER_CONFIG)
    humpback.forget_puts = True

    result = run_apply(script, "--url", humpback.url)

    line = assert_one_line_without_traceback(result)
    assert "does not store what was sent" in line
    assert "EnablePrivateRegistry is false, not true" in line


# Interpreters.


def test_the_script_needs_no_python_newer_than_3_6(script: Path) -> None:
    # Python 3.6 is CentOS 7's python3, a likely administrator's machine.
    text = script.read_text("utf-8")
    ast.parse(text, feature_version=(3, 6))
    assert "from __future__ import annotations" not in text


def test_the_script_runs_under_python_3_6(
    script: Path, start_humpback: StartHumpback
) -> None:
    found = sorted(
        glob.glob(os.path.expanduser("~/.pyenv/versions/3.6*/bin/python3.6"))
    )
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("no Python 3.6 here (this machine image ships pyenv's 3.6)")
        pytest.skip("no Python 3.6 here")
    humpback = start_humpback(CLUSTER_CONFIG)

    result = run_apply(script, "--url", humpback.url, python=found[0])

    assert result.returncode == 0, result.stderr
    assert humpback.stored["PrivateRegistry"] == REGISTRY_URL
    assert_every_put_was_json(humpback)
