"""`vrm serve`: the scheduler and the web app as two processes, stopped together by Ctrl-C."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from vrm_dashboard.config import PROJECT_ROOT, settings
from vrm_dashboard.demo.seeder import ALL_DEMO_LOGINS


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _interrupt(_signum, _frame):  # type: ignore[no-untyped-def]
    # A SIGTERM (e.g. from a process manager) stops both children just like Ctrl-C.
    raise KeyboardInterrupt


def serve() -> int:
    port = settings().port
    if _port_open(port):
        print(f"Port {port} is already in use; set PORT= to another port.", file=sys.stderr)
        return 1
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PORT": str(port)}
    # Each child leads its own process group so the whole tree (reflex starts workers) stops.
    scheduler = subprocess.Popen([str(bin_dir / "vrm"), "scheduler"], cwd=PROJECT_ROOT, env=env,
                                 start_new_session=True)
    web = subprocess.Popen(
        [str(bin_dir / "reflex"), "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=PROJECT_ROOT, env=env, start_new_session=True,
    )
    processes = [scheduler, web]
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        announced = False
        while all(p.poll() is None for p in processes):
            if not announced and _port_open(port):
                announced = True
                print(f"\nVRM Dashboard is running at http://localhost:{port}/")
                print("Demo sign-ins (role, e-mail, password):")
                for login in ALL_DEMO_LOGINS:
                    print(f"  {login.role:<16} {login.email:<24} {login.password}")
                print("Press Ctrl-C to stop.\n", flush=True)
            time.sleep(1)
        failed = [p for p in processes if p.poll() is not None]
        print(f"A process stopped (exit {failed[0].returncode}); stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping the web app and the scheduler...")
        return 0
    finally:
        _stop(processes)
