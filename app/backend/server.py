"""fullstack demo backend: a small JSON API that stores items in PostgreSQL.

The server is the standard library's ``ThreadingHTTPServer`` plus psycopg 3.

Configuration comes from the environment only:

* ``PORT`` (default 8080): TCP port, bound on 0.0.0.0.
* ``LOG_LEVEL`` (default INFO): DEBUG, INFO, WARNING, ERROR or CRITICAL.
* ``APP_TITLE`` (default "fullstack"): returned by ``GET /api/``.
* libpq's own variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
  PGSSLMODE, ...): read by libpq itself; this program never handles them.

Endpoints:

* ``GET /healthz``: liveness, 200 while the process serves; never uses the DB.
* ``GET /readyz``: 200 once the schema exists and ``SELECT 1`` succeeds now,
  otherwise 503 with the reason.
* ``GET /api/``: service name, version and title.
* ``GET /api/items``: the newest items first (at most ``LIST_LIMIT``).
* ``POST /api/items``: create an item from ``{"name": "..."}``.

SIGTERM and SIGINT stop the server gracefully: it stops accepting, lets the
requests in flight finish, and exits with status 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, cast
from urllib.parse import urlsplit

import psycopg

VERSION = "0.1.0"
SERVICE = "backend"

MAX_BODY_BYTES = 64 * 1024
MAX_NAME_LENGTH = 200
LIST_LIMIT = 100

CONNECT_TIMEOUT_SECONDS = 3
MAX_DB_CONNECTIONS = 10
DB_SLOT_WAIT_SECONDS = 1.0
SOCKET_TIMEOUT_SECONDS = 5.0
SCHEMA_RETRY_INITIAL_SECONDS = 0.5
SCHEMA_RETRY_MAX_SECONDS = 10.0

SCHEMA_SQL = (
    "CREATE TABLE IF NOT EXISTS items ("
    " id bigserial PRIMARY KEY,"
    " name text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())"
)
LIST_SQL = (
    "SELECT id, name, created_at FROM items ORDER BY created_at DESC, id DESC LIMIT %s"
)
INSERT_SQL = "INSERT INTO items (name) VALUES (%s) RETURNING id, name, created_at"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

log = logging.getLogger("fullstack.backend")


@dataclass(frozen=True)
class Settings:
    """Settings read from the environment; unknown variables are ignored."""

    port: int
    log_level: str
    title: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from ``env``, raising ValueError on invalid values."""
        raw_port = env.get("PORT", "8080").strip()
        if not (raw_port.isascii() and raw_port.isdigit()) or not (
            0 < int(raw_port) < 65536
        ):
            raise ValueError(f"PORT must be an integer in 1..65535, got {raw_port!r}")
        log_level = env.get("LOG_LEVEL", "INFO").strip().upper()
        if log_level not in LOG_LEVELS:
            raise ValueError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}"
            )
        return cls(
            port=int(raw_port),
            log_level=log_level,
            title=env.get("APP_TITLE", "fullstack"),
        )


class DatabaseUnavailableError(Exception):
    """The database cannot serve this request now (not ready, busy or down)."""


class HttpError(Exception):
    """A client error to answer with ``status`` and a JSON error message."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def describe_error(exc: BaseException) -> str:
    """Return a one-line description of ``exc`` suitable for logs and probes."""
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


class Database:
    """Short-lived PostgreSQL connections, configured only by libpq's env vars.

    A connection is opened per operation; a semaphore bounds how many are open
    at once so a burst of requests cannot exhaust the server's connections.
    """

    def __init__(self, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        self._schema_ready = threading.Event()
        self._schema_error = "not attempted yet"

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """Yield a connection; commit on success, roll back on error, close."""
        if not self._slots.acquire(timeout=DB_SLOT_WAIT_SECONDS):
            raise DatabaseUnavailableError("all database connections are busy")
        try:
            # An empty conninfo makes libpq take the server, database and
            # credentials from the PG* variables. UTF8 makes text come back as
            # str even from a SQL_ASCII database.
            with psycopg.connect(
                "", connect_timeout=CONNECT_TIMEOUT_SECONDS, client_encoding="utf8"
            ) as conn:
                yield conn
        finally:
            self._slots.release()

    def ensure_schema(self, stop: threading.Event) -> None:
        """Create the schema, retrying with capped backoff until done or stopped."""
        delay = SCHEMA_RETRY_INITIAL_SECONDS
        attempt = 0
        while not stop.is_set():
            attempt += 1
            try:
                with self.connect() as conn:
                    conn.execute(SCHEMA_SQL)
            except (psycopg.Error, DatabaseUnavailableError) as exc:
                self._schema_error = describe_error(exc)
                log.warning(
                    "schema not ensured (attempt %d): %s; retrying in %.1fs",
                    attempt,
                    self._schema_error,
                    delay,
                )
                stop.wait(delay)
                delay = min(delay * 2, SCHEMA_RETRY_MAX_SECONDS)
            else:
                self._schema_ready.set()
                log.info("schema ensured (attempt %d)", attempt)
                return

    def not_ready_reason(self) -> str | None:
        """Return why the database is not usable now, or None when it is."""
        if not self._schema_ready.is_set():
            return f"schema not ensured yet: {self._schema_error}"
        try:
            with self.connect() as conn:
                conn.execute("SELECT 1")
        except (psycopg.Error, DatabaseUnavailableError) as exc:
            return describe_error(exc)
        return None

    def list_items(self) -> list[dict[str, Any]]:
        """Return the newest items first, at most ``LIST_LIMIT`` of them."""
        self._require_schema()
        with self.connect() as conn:
            rows = conn.execute(LIST_SQL, (LIST_LIMIT,)).fetchall()
        return [item_to_json(row) for row in rows]

    def create_item(self, name: str) -> dict[str, Any]:
        """Insert an item and return it as stored."""
        self._require_schema()
        with self.connect() as conn:
            row = conn.execute(INSERT_SQL, (name,)).fetchone()
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return item_to_json(row)

    def _require_schema(self) -> None:
        if not self._schema_ready.is_set():
            raise DatabaseUnavailableError("database schema is not ready yet")


def item_to_json(row: tuple[Any, ...]) -> dict[str, Any]:
    """Convert an ``(id, name, created_at)`` row to its JSON form."""
    item_id, name, created_at = row
    return {
        "id": int(item_id),
        "name": str(name),
        "created_at": cast(datetime, created_at).astimezone(UTC).isoformat(),
    }


def parse_item_name(payload: Any) -> str:
    """Validate a ``POST /api/items`` payload and return the item name."""
    if not isinstance(payload, dict):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, 'body must be a JSON object like {"name": "..."}'
        )
    name = payload.get("name")
    if not isinstance(name, str):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, '"name" is required and must be a string'
        )
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            f'"name" must be 1 to {MAX_NAME_LENGTH} characters long',
        )
    if not name.isprintable():
        raise HttpError(
            HTTPStatus.BAD_REQUEST, '"name" must contain only printable characters'
        )
    return name


@dataclass(frozen=True)
class Response:
    """A JSON response: status, body to serialise and extra headers."""

    status: HTTPStatus
    body: Any
    headers: tuple[tuple[str, str], ...] = ()


def error_response(status: HTTPStatus, message: str) -> Response:
    """Return the JSON error response ``{"error": message}``."""
    return Response(status, {"error": message})


class Server(ThreadingHTTPServer):
    """HTTP server whose ``server_close()`` waits for requests in flight."""

    daemon_threads = False
    request_queue_size = 64

    def __init__(
        self, address: tuple[str, int], settings: Settings, db: Database
    ) -> None:
        super().__init__(address, Handler)
        self.settings = settings
        self.db = db


class Handler(BaseHTTPRequestHandler):
    """Routes requests to the endpoint functions in ``ROUTES``."""

    timeout = SOCKET_TIMEOUT_SECONDS

    @property
    def settings(self) -> Settings:
        """The application's settings."""
        return cast(Server, self.server).settings

    @property
    def db(self) -> Database:
        """The application's database."""
        return cast(Server, self.server).db

    def dispatch(self) -> None:
        """Answer one request of any method and log it on one line."""
        started = time.monotonic()
        path = urlsplit(self.path).path
        try:
            response = self.route(path)
        except HttpError as exc:
            response = error_response(exc.status, exc.message)
        except DatabaseUnavailableError as exc:
            response = error_response(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
        except psycopg.OperationalError as exc:
            log.warning(
                "database error on %s %s: %s", self.command, path, describe_error(exc)
            )
            response = error_response(
                HTTPStatus.SERVICE_UNAVAILABLE, "database unavailable"
            )
        except Exception:
            log.exception("unhandled error on %s %s", self.command, path)
            response = error_response(
                HTTPStatus.INTERNAL_SERVER_ERROR, "internal server error"
            )
        try:
            self.send_json(response)
        except OSError as exc:
            log.info("client went away before the response was sent: %s", exc)
        log.info(
            "%s %s %s %d %.1fms",
            self.client_address[0],
            self.command,
            path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = dispatch

    def route(self, path: str) -> Response:
        """Find the endpoint for ``path`` and method, or a 404/405 response."""
        methods = ROUTES.get(path)
        if methods is None:
            return error_response(HTTPStatus.NOT_FOUND, f"no such resource: {path}")
        # HEAD is GET without the body (send_json leaves the body out).
        endpoint = methods.get("GET" if self.command == "HEAD" else self.command)
        if endpoint is None:
            allowed = ", ".join([*methods, "HEAD"] if "GET" in methods else methods)
            return Response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                {"error": f"method {self.command} not allowed; use {allowed}"},
                (("Allow", allowed),),
            )
        return endpoint(self)

    def read_json(self) -> Any:
        """Read and decode the JSON request body, enforcing ``MAX_BODY_BYTES``."""
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        raw_length = raw_length.strip()
        if not (raw_length.isascii() and raw_length.isdigit()):
            raise HttpError(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
        length = int(raw_length)
        if length > MAX_BODY_BYTES:
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"request body larger than {MAX_BODY_BYTES} bytes",
            )
        try:
            body = self.rfile.read(length)
        except TimeoutError as exc:
            raise HttpError(
                HTTPStatus.REQUEST_TIMEOUT, "timed out reading the body"
            ) from exc
        if len(body) != length:
            raise HttpError(HTTPStatus.BAD_REQUEST, "request body is incomplete")
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise HttpError(
                HTTPStatus.BAD_REQUEST, "request body is not valid JSON"
            ) from exc

    def send_json(self, response: Response) -> None:
        """Write ``response`` as JSON (headers only for HEAD requests)."""
        body = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def version_string(self) -> str:
        """Name the service in the Server header without the Python version."""
        return f"fullstack-backend/{VERSION}"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do nothing: ``dispatch`` logs each request with its duration."""

    def log_message(self, format: str, *args: Any) -> None:
        """Send the base class's own messages (protocol errors) to logging."""
        log.warning("%s %s", self.client_address[0], format % args)


def healthz(_request: Handler) -> Response:
    """Liveness: the process serves requests. Never touches the database."""
    return Response(HTTPStatus.OK, {"status": "ok"})


def readyz(request: Handler) -> Response:
    """Readiness: the schema exists and the database answers now."""
    reason = request.db.not_ready_reason()
    if reason is not None:
        return Response(
            HTTPStatus.SERVICE_UNAVAILABLE, {"status": "not ready", "reason": reason}
        )
    return Response(HTTPStatus.OK, {"status": "ready"})


def api_info(request: Handler) -> Response:
    """Describe the service."""
    body = {"service": SERVICE, "version": VERSION, "title": request.settings.title}
    return Response(HTTPStatus.OK, body)


def list_items(request: Handler) -> Response:
    """List the newest items first."""
    return Response(HTTPStatus.OK, request.db.list_items())


def create_item(request: Handler) -> Response:
    """Create an item from ``{"name": "..."}``."""
    name = parse_item_name(request.read_json())
    return Response(HTTPStatus.CREATED, request.db.create_item(name))


ROUTES: dict[str, dict[str, Callable[[Handler], Response]]] = {
    "/healthz": {"GET": healthz},
    "/readyz": {"GET": readyz},
    "/api/": {"GET": api_info},
    "/api/items": {"GET": list_items, "POST": create_item},
}


def main() -> int:
    """Serve until SIGTERM or SIGINT; return the process exit status."""
    try:
        settings = Settings.from_env(os.environ)
    except ValueError as exc:
        print(f"fullstack-backend: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )

    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    db = Database(MAX_DB_CONNECTIONS)
    server = Server(("0.0.0.0", settings.port), settings, db)
    schema = threading.Thread(
        target=db.ensure_schema, args=(stop,), name="schema", daemon=True
    )
    schema.start()
    serving = threading.Thread(target=server.serve_forever, name="http")
    serving.start()
    log.info("fullstack-backend %s listening on 0.0.0.0:%d", VERSION, settings.port)

    stop.wait()
    log.info("received %s, shutting down", signal.Signals(received[0]).name)
    server.shutdown()  # stop accepting: serve_forever returns
    server.server_close()  # close the socket, wait for requests in flight
    serving.join()
    schema.join(timeout=CONNECT_TIMEOUT_SECONDS)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
