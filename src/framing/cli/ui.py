"""``framing ui``: the MLflow UI on the project's tracking store."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path


def cmd_ui(args) -> int:
    from framing.config.tree import project_root
    from framing.core.errors import require_extra

    require_extra("train", "framing ui")
    root = project_root()
    uri = args.uri or f"sqlite:///{root / 'mlflow.db'}"
    base = f"http://{args.host}:{args.port}"
    views = _experiment_views(uri, base)
    # MLflow's own start page (its bare address) is a welcome page for GenAI work; the
    # address to open is the runs table of the experiment trained last.
    start = views[0][1] if views else f"{base}/#/experiments"
    print(f"MLflow UI: open {start} (store {uri}); Ctrl-C stops it.", flush=True)
    for name, url in views:
        print(f"  {name}: {url}", flush=True)
    if not views:
        print("  no runs yet: train with framing-train (or make train), then reload",
              flush=True)
    cmd = ["mlflow", "server", "--backend-store-uri", uri, "--host", args.host, "--port",
           str(args.port)]
    if uri.startswith("sqlite:"):
        cmd += ["--default-artifact-root", (root / "mlartifacts").as_uri()]
    exe = Path(sys.executable).with_name("mlflow")
    if exe.is_file():
        cmd[0] = str(exe)
    if getattr(args, "browser", True) and _has_display():
        _open_when_up(base, start)
    return serve(cmd)


def _has_display() -> bool:
    """A desktop to open a browser on (never a text browser in this terminal)."""
    import os

    return sys.platform == "darwin" or bool(os.environ.get("DISPLAY")
                                            or os.environ.get("WAYLAND_DISPLAY"))


def _open_when_up(base: str, url: str, wait: float = 120.0) -> None:
    """Open ``url`` in the desktop's browser once the server answers (in the background)."""
    import threading

    def opener():
        import time
        import urllib.request
        import webbrowser

        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            return
        with contextlib.suppress(Exception):
            webbrowser.open(url)

    threading.Thread(target=opener, daemon=True).start()


def _experiment_views(uri: str, base: str) -> list[tuple[str, str]]:
    """(experiment, address of its runs table in framing's shared view), the experiment
    updated last first, if the store exists."""
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return []
    try:
        from mlflow.tracking import MlflowClient

        from framing.track.runs import VIEW_KEY

        exps = MlflowClient(uri).search_experiments(order_by=["last_update_time DESC"])
    except Exception:  # noqa: BLE001 - the server will say what is wrong with the store
        return []
    return [(e.name, f"{base}/#/experiments/{e.experiment_id}/runs?viewStateShareKey="
             f"{VIEW_KEY}") for e in exps if e.name != "Default"]


def serve(cmd: list[str]) -> int:
    """Run a server in its own process group; Ctrl-C and SIGTERM reach the whole group,
    and nothing of it outlives this process. The exit status is the server's, or that of
    the signal that stopped it (130, 143), as for every command."""
    import os
    import signal
    import subprocess

    # the MLflow server's own deprecation notice (starlette's WSGI middleware, which it
    # uses) says nothing to a user: one line per worker, left out
    quiet = "ignore:starlette.middleware.wsgi is deprecated:UserWarning"
    env = {**os.environ, "PYTHONWARNINGS": ",".join(
        x for x in (os.environ.get("PYTHONWARNINGS"), quiet) if x)}
    proc = subprocess.Popen(cmd, start_new_session=True, env=env)
    stopped: list[int] = []

    def forward(signum, frame):
        stopped.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
        return 128 + stopped[0] if stopped else code
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            if sig == signal.SIGTERM:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    continue
                # workers of the group may still be ending
                import time

                time.sleep(0.5)
