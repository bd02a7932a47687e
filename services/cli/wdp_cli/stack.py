"""Process supervisor for the local stack: simulator + the five services as OS processes.

Why a supervisor of our own rather than docker-compose: the local profile must run on a laptop
with only Python, and ``wdp demo``/the e2e test need to own the processes (free ports, a temp
data dir, a clean stop on Ctrl-C). Every service is started as ``sys.executable -m <service>``
with one shared environment, so they all agree on ``WDP_DATA_DIR`` and the simulator's URLs.

Lifecycle:

* ``start()`` launches each process in its own session (a terminal's Ctrl-C reaches only the
  supervisor, which then stops children in order) with stdout/stderr appended to
  ``<data_dir>/logs/<name>.log``;
* ``wait_healthy()`` polls each service's health: HTTP ``/healthz`` for the receiver, the
  simulator's root, and the heartbeat file (``shared.runtime.service.is_healthy``) for the
  bus consumers; a process that exits meanwhile fails fast with the tail of its log;
* ``supervise()`` (the ``wdp up`` loop) restarts a process that died, with exponential
  backoff (1 s, 2 s, 4 s ... capped at ``max_backoff_s``), keeps every other process running and
  records restart counts in ``<data_dir>/health/supervisor.json`` (Container Apps does the same
  with its restart policy and liveness probes in Azure);
* ``stop()`` sends SIGTERM in reverse start order, waits ``stop_timeout_s``, then SIGKILLs.

No orphans: children started from the main thread get ``PR_SET_PDEATHSIG`` (Linux), so even a
``kill -9`` of the supervisor takes them down, and ``stop()`` runs on SIGTERM/SIGINT of the
parent (``forward_signals_as_keyboard_interrupt``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from shared.errors import PlatformError
from shared.runtime.service import is_healthy

log = logging.getLogger(__name__)

SERVICES: tuple[str, ...] = ("receiver", "extractor", "loader", "transformer", "scorer")
SIMULATOR = "whoop_simulator"


class StackError(PlatformError):
    """A process of the stack failed to start, died, or did not become healthy in time."""

    def __init__(self, service: str, reason: str, log_tail: str = "") -> None:
        self.service = service
        self.reason = reason
        self.log_tail = log_tail
        message = f"{service}: {reason}"
        if log_tail:
            message += f"\n--- last lines of its log ---\n{log_tail}"
        super().__init__(message)


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now (bind to 0, read, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class ProcessSpec:
    """How to start and probe one process."""

    name: str
    argv: list[str]
    health: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class StackConfig:
    """Everything that varies between ``wdp up``, ``wdp demo`` and the e2e test.

    Args:
        data_dir: WDP_DATA_DIR of every process (bus, lake, warehouse, logs, spans).
        with_simulator: start the WHOOP simulator and point the services at it.
        simulator_seed / simulator_users / simulator_days: generator inputs (``WDP_SIM_*``).
        simulator_args: extra CLI arguments for ``python -m whoop_simulator``.
        services: which of :data:`SERVICES` to start.
        env: extra environment (overrides the defaults computed here).
        host: bind address for HTTP processes.
    """

    data_dir: Path
    with_simulator: bool = True
    simulator_seed: int = 42
    simulator_users: int = 3
    simulator_days: int = 120
    simulator_args: list[str] = field(default_factory=list)
    services: tuple[str, ...] = SERVICES
    env: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    receiver_port: int = 0
    simulator_port: int = 0
    otel_exporter: str = "file"


class Stack:
    """Start, probe and stop the local stack; usable as a context manager."""

    def __init__(
        self,
        config: StackConfig,
        *,
        python: str = sys.executable,
        stop_timeout_s: float = 15.0,
    ) -> None:
        self.config = config
        self.python = python
        self.stop_timeout_s = stop_timeout_s
        self.data_dir = config.data_dir.resolve()
        self.log_dir = self.data_dir / "logs"
        self.health_dir = self.data_dir / "health"
        self.receiver_port = (
            config.receiver_port
            or int(config.env.get("WDP_RECEIVER_PORT", "0"))
            or free_port(config.host)
        )
        self.simulator_port = config.simulator_port or free_port(config.host)
        self.client_id = config.env.get("WDP_WHOOP_CLIENT_ID", "wdp-local-client")
        self.client_secret = config.env.get("WDP_WHOOP_CLIENT_SECRET") or secrets.token_urlsafe(24)
        self.admin_token = config.env.get("WDP_SIM_ADMIN_TOKEN") or secrets.token_urlsafe(24)
        # An admin API key for the receiver's REST API (wdp backfill, the demo's status checks),
        # unless the operator configured their own keys.
        self.api_key = secrets.token_urlsafe(24)
        self.api_key_generated = "WDP_RECEIVER_API_KEYS" not in config.env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = {}
        self.max_backoff_s = 30.0
        self._logs: dict[str, Path] = {}
        self._specs: list[ProcessSpec] = []
        self._env: dict[str, str] = {}
        self._restart_at: dict[str, float] = {}

    # ------------------------------------------------------------------ addresses
    @property
    def receiver_url(self) -> str:
        """Base URL of the receiver."""
        return f"http://{self.config.host}:{self.receiver_port}"

    @property
    def simulator_url(self) -> str:
        """Base URL of the simulator."""
        return f"http://{self.config.host}:{self.simulator_port}"

    @property
    def spans_file(self) -> Path:
        """Where every process appends its spans (``WDP_OTEL_EXPORTER=file``)."""
        return self.data_dir / "spans.jsonl"

    def log_file(self, name: str) -> Path:
        """A process's combined stdout/stderr log."""
        return self.log_dir / f"{name}.log"

    def write_admin_key(self) -> Path | None:
        """Persist a generated admin key (mode 0600) so the operator can read it; its path.

        The key itself is never printed or logged; ``None`` when keys came from the settings.
        """
        if not self.api_key_generated:
            return None
        folder = self.data_dir / "secrets"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / "receiver-admin-api-key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.api_key + "\n")
        return path

    # ------------------------------------------------------------------ environment
    def environment(self) -> dict[str, str]:
        """The environment every process shares (secrets are generated per stack)."""
        env = dict(os.environ)
        env.update(
            {
                "WDP_PROFILE": "local",
                "WDP_ENVIRONMENT": "dev",
                "WDP_DATA_DIR": str(self.data_dir),
                "WDP_LOG_LEVEL": env.get("WDP_LOG_LEVEL", "INFO"),
                "WDP_OTEL_EXPORTER": self.config.otel_exporter,
                "WDP_OTEL_FILE_PATH": str(self.spans_file),
                "WDP_BUS_POLL_INTERVAL_S": "0.05",
                "WDP_WHOOP_CLIENT_ID": self.client_id,
                "WDP_WHOOP_CLIENT_SECRET": self.client_secret,
                "WDP_RECEIVER_HOST": self.config.host,
                "WDP_RECEIVER_PORT": str(self.receiver_port),
                "WDP_RECEIVER_PUBLIC_BASE_URL": self.receiver_url,
                "WDP_RECEIVER_API_KEYS": json.dumps({self.api_key: "admin"}),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.config.with_simulator:
            env.update(
                {
                    "WDP_WHOOP_API_BASE_URL": f"{self.simulator_url}/developer",
                    "WDP_WHOOP_OAUTH_BASE_URL": f"{self.simulator_url}/oauth/oauth2",
                    "WDP_SIM_SEED": str(self.config.simulator_seed),
                    "WDP_SIM_N_USERS": str(self.config.simulator_users),
                    "WDP_SIM_HISTORY_DAYS": str(self.config.simulator_days),
                    "WDP_SIM_CLIENT_ID": self.client_id,
                    "WDP_SIM_CLIENT_SECRET": self.client_secret,
                    "WDP_SIM_ADMIN_TOKEN": self.admin_token,
                    "WDP_SIM_WEBHOOK_URL": f"{self.receiver_url}/webhooks/whoop",
                    "WDP_SIM_AUTO_APPROVE": "true",
                }
            )
        env.update(self.config.env)
        return env

    def specs(self) -> list[ProcessSpec]:
        """What to start, in order: simulator first (the services call it), scorer last."""
        specs: list[ProcessSpec] = []
        if self.config.with_simulator:
            argv = [
                self.python,
                "-m",
                SIMULATOR,
                "--host",
                self.config.host,
                "--port",
                str(self.simulator_port),
                *self.config.simulator_args,
            ]
            specs.append(
                ProcessSpec(SIMULATOR, argv, self._http_ok(self.simulator_url + "/healthz"))
            )
        for name in self.config.services:
            argv = [self.python, "-m", name]
            if name == "receiver":
                probe = self._http_ok(f"{self.receiver_url}/healthz")
            else:
                probe = self._heartbeat(name)
            specs.append(ProcessSpec(name, argv, probe))
        return specs

    def _http_ok(self, url: str) -> Callable[[], bool]:
        def probe() -> bool:
            try:
                return httpx.get(url, timeout=1.0).status_code < 500
            except httpx.HTTPError:
                return False

        return probe

    def _heartbeat(self, name: str) -> Callable[[], bool]:
        def probe() -> bool:
            return is_healthy(self.health_dir, name)

        return probe

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Launch every process; does not wait for health (see :meth:`wait_healthy`)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.health_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        self._env = env
        self._specs = self.specs()
        for spec in self._specs:
            self._launch(spec, {**env, **spec.env})

    def _launch(self, spec: ProcessSpec, env: Mapping[str, str]) -> None:
        path = self.log_file(spec.name)
        self._logs[spec.name] = path
        with path.open("ab") as out:
            proc = subprocess.Popen(  # argv is ours; no shell
                spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=str(Path.cwd()),
                start_new_session=True,
                preexec_fn=_die_with_parent_hook(),  # noqa: PLW1509 - one libc call, no locks
            )
        self.processes[spec.name] = proc
        log.info("process started", extra={"service": spec.name, "pid": proc.pid})

    def wait_healthy(self, timeout_s: float = 120.0, names: Sequence[str] | None = None) -> None:
        """Block until every (named) process reports healthy.

        Raises:
            StackError: a process exited, or one was still unhealthy at the deadline.
        """
        pending = {s.name: s for s in self._specs if names is None or s.name in names}
        deadline = time.monotonic() + timeout_s
        while pending:
            self.check_alive()
            for name in [n for n, spec in pending.items() if spec.health()]:
                log.info("process healthy", extra={"service": name})
                del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                name = sorted(pending)[0]
                raise StackError(name, f"not healthy after {timeout_s:.0f} s", self.log_tail(name))
            time.sleep(0.1)

    def check_alive(self) -> None:
        """Raise if any process has exited (a service never exits on its own).

        Raises:
            StackError: with the exit code and the tail of the dead process's log.
        """
        for name, proc in self.processes.items():
            code = proc.poll()
            if code is not None:
                raise StackError(name, f"exited with code {code}", self.log_tail(name))

    def supervise(self, now: float | None = None) -> list[str]:
        """One supervision pass: restart (with backoff) what died; returns names restarted.

        A process that exits is logged with its code and scheduled for a restart after
        ``min(max_backoff_s, 2 ** restarts)`` seconds; the others are never touched. Restart
        counts and the last exit code land in ``<data_dir>/health/supervisor.json``.
        """
        now = time.monotonic() if now is None else now
        restarted: list[str] = []
        for spec in self._specs:
            proc = self.processes.get(spec.name)
            if proc is None or proc.poll() is None:
                continue
            due = self._restart_at.get(spec.name)
            if due is None:
                count = self.restarts.get(spec.name, 0)
                delay = min(self.max_backoff_s, float(2**count))
                self._restart_at[spec.name] = now + delay
                log.warning(
                    "process exited; restarting after backoff",
                    extra={
                        "service": spec.name,
                        "exit_code": proc.returncode,
                        "restarts": count,
                        "backoff_s": delay,
                    },
                )
                continue
            if now < due:
                continue
            del self._restart_at[spec.name]
            self.restarts[spec.name] = self.restarts.get(spec.name, 0) + 1
            self._launch(spec, {**self._env, **spec.env})
            restarted.append(spec.name)
        if restarted or self._restart_at:
            self._write_supervisor_state()
        return restarted

    def _write_supervisor_state(self) -> None:
        state = {
            name: {
                "pid": proc.pid,
                "running": proc.poll() is None,
                "restarts": self.restarts.get(name, 0),
                "last_exit_code": proc.returncode,
            }
            for name, proc in self.processes.items()
        }
        self.health_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.health_dir / ".supervisor.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.health_dir / "supervisor.json")

    def log_tail(self, name: str, lines: int = 40) -> str:
        """The last lines of a process's log (for error messages)."""
        path = self._logs.get(name) or self.log_file(name)
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every process (reverse order), wait, SIGKILL the stragglers.

        Returns:
            Exit code per process (negative: killed by that signal).
        """
        order = list(reversed(list(self.processes)))
        for name in order:
            self._signal(name, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        for name in order:
            proc = self.processes[name]
            remaining = max(0.0, deadline - time.monotonic())
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                log.warning("process ignored SIGTERM; killing", extra={"service": name})
                self._signal(name, signal.SIGKILL)
                proc.wait(timeout=5)
        codes = {name: proc.returncode for name, proc in self.processes.items()}
        log.info("stack stopped", extra={"exit_codes": codes})
        return codes

    def _signal(self, name: str, sig: signal.Signals) -> None:
        proc = self.processes[name]
        if proc.poll() is not None:
            return
        # The child leads its own session; signal the whole group so grandchildren go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_PR_SET_PDEATHSIG = 1


def _die_with_parent_hook() -> Callable[[], None] | None:
    """``preexec_fn`` asking Linux to SIGTERM the child when its parent dies.

    Only from the main thread: the signal fires when the *thread* that forked exits, so a
    stack started from a worker thread (a benchmark harness) must not use it.
    """
    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook


def stack_environment_from(environ: Mapping[str, str], dotenv: Path | None) -> dict[str, str]:
    """``WDP_*`` settings for a stack: a ``.env`` file first, the process environment wins.

    ``.env`` lines are ``KEY=VALUE`` (optional ``export``, quotes stripped, ``#`` comments);
    only ``WDP_*`` and ``APPLICATIONINSIGHTS_CONNECTION_STRING`` keys are taken, so a stray
    ``.env`` cannot change ``PATH`` or ``PYTHONPATH`` of the services.
    """
    wanted = ("WDP_", "APPLICATIONINSIGHTS_CONNECTION_STRING")
    out: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        for raw in dotenv.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.removeprefix("export ").split("=", 1)
            key, value = key.strip(), value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            if key.startswith(wanted):
                out[key] = value
    out.update({k: v for k, v in environ.items() if k.startswith(wanted) and v})
    return out


@contextlib.contextmanager
def forward_signals_as_keyboard_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so ``wdp up`` stops its stack the same way as Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        del signum, frame
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
