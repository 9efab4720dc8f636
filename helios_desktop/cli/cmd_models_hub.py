"""`helios models list|catalog|pull|rm|use|servers`: installed models, the catalog and model servers.

Thin handlers: the work is in engines/hub_catalog.py, engines/hub_pull.py,
engines/local_servers.py and engines/catalog.py (which the window's chooser calls too).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import EXIT_OK, CliError, settings_from

COMMANDS = ("list", "catalog", "pull", "rm", "use", "servers")


def _gib(n: float) -> str:
    return f"{n / 1024 ** 3:.1f} GiB"


def run(args) -> int:
    return {"list": _models_list, "catalog": _models_catalog, "pull": _models_pull,
            "rm": _models_rm, "use": _models_use, "servers": _models_servers}[args.models_cmd](args)


def _models_list(args) -> int:
    from ..engines.catalog import list_models
    from ..records import human_bytes

    rows = list_models(settings_from(args))
    if not rows:
        print("no models installed; `helios models catalog` lists models to download, "
              "`helios models build-default` builds the demonstration model")
        return EXIT_OK
    table = [["NAME", "SIZE", "PRECISION", "RUNTIME", "SOURCE", "PATH"]]
    for r in rows:
        table.append([r["name"], human_bytes(r["size_mb"] * 1e6),
                      r["precision"] if r["precision"] != "?" else "unknown", r["provider"],
                      r["source"], str(r["path"])])
    marks = [" "] + ["*" if r["active"] else " " for r in rows]
    for mark, line in zip(marks, aligned(table, right={1})):
        print(f"{mark} {line}")
    if any(r["active"] for r in rows):
        print("* the active model (the one a run loads); `helios models use NAME` changes it")
    else:
        print("no model here is active: runs use a model server (engine openai) or "
              "model_path names a folder that is not a model")
    return EXIT_OK


def aligned(table: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    """Rows of cells as lines whose columns line up (the header is the first row); the
    columns in ``right`` are right-aligned (numbers), the last is never padded."""
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    last = len(widths) - 1
    return ["  ".join(cell.rjust(widths[c]) if c in right else
                      cell if c == last else cell.ljust(widths[c])
                      for c, cell in enumerate(row)).rstrip()
            for row in table]


def _models_catalog(args) -> int:
    from ..engines.hub_catalog import CatalogError, catalog_with_fit, load_catalog, this_machine
    from ..paths import models_dir

    try:
        entries = load_catalog()
    except CatalogError as exc:
        raise CliError(str(exc)) from None
    machine = this_machine()
    rows = catalog_with_fit(machine, entries)
    if args.json:
        print(json.dumps([{**e.as_json(), "fits": f.ok, "fit": f.reason,
                           "installed": (models_dir() / e.name).is_dir()} for e, f in rows],
                         indent=2))
        return EXIT_OK
    gpus = ", ".join(_gib(t) for t in machine.gpu_memory) or "none"
    runtime = {"cuda": "onnxruntime-genai with CUDA", "cpu": "onnxruntime-genai (CPU)",
               None: "no onnxruntime-genai"}[machine.runtime]
    print(f"# this machine: {_gib(machine.ram_bytes)} RAM, NVIDIA GPU memory: {gpus}, {runtime}, "
          f"{_gib(machine.disk_free)} free in {models_dir()}")
    width = max(len(e.name) for e, _ in rows)
    print(f"  {'NAME':<{width}}  {'RUNTIME':<7}  {'DOWNLOAD':>8}  {'MEMORY':>8}  "
          f"{'LICENCE':<27}  FIT")
    for e, f in rows:
        mark = "i" if (models_dir() / e.name).is_dir() else ("+" if f.ok else "-")
        print(f"{mark} {e.name:<{width}}  {e.runtime:<7}  {e.size_bytes / 1e9:>5.2f} GB  "
              f"{_gib(e.memory_needed()):>8}  {e.licence:<27}  {f.reason}")
    print("+ fits this machine, - does not, i installed.  MEMORY: RAM (cpu) or GPU memory (cuda), "
          "estimated.  Download one: helios models pull NAME")
    return EXIT_OK


def _confirm_licence(entry, assume_yes: bool) -> None:
    from ..engines.hub_pull import PullError, licence_text

    if not entry.needs_acceptance:
        return
    if assume_yes:
        print(f"helios: {entry.name}: the {entry.licence} is accepted (--yes)", file=sys.stderr)
        return
    try:
        text = licence_text(entry)
    except PullError as exc:
        raise CliError(str(exc)) from None
    print(text.rstrip() + "\n", file=sys.stderr)
    print(f"{entry.name} is under the {entry.licence}, shown above ({entry.licence_file} of "
          f"{entry.repo}). Accept it and download? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise CliError(f"the {entry.licence} was not accepted; nothing was downloaded "
                       "(helios models pull NAME --yes accepts it without asking)")


class _PullProgressLine:
    """Size, speed and ETA on one rewritten line (a terminal), or a line every 5 s (a log)."""

    def __init__(self, stream):
        self.stream, self.tty, self.last = stream, stream.isatty(), 0.0

    def __call__(self, p) -> None:
        import time

        if self.tty:
            self.stream.write(f"\r{p.text():<100}")
            self.stream.flush()
        elif time.monotonic() - self.last >= 5 or p.done_bytes == p.total_bytes:
            self.last = time.monotonic()
            print(p.text(), file=self.stream, flush=True)


def _models_pull(args) -> int:
    from ..engines.hub_catalog import BUILT_WITH_LLAMA, CatalogError, find_entry
    from ..engines.hub_pull import PullError, partial_dir, pull
    from ..paths import models_dir

    try:
        entry = find_entry(args.name)
    except CatalogError as exc:
        raise CliError(str(exc)) from None
    _confirm_licence(entry, args.yes)
    print(f"helios: pulling {entry.repo} {entry.subfolder} at {entry.revision[:12]} "
          f"(about {entry.size_bytes / 1e9:.2f} GB) into {models_dir() / entry.name}",
          file=sys.stderr)
    progress = _PullProgressLine(sys.stderr)
    try:
        dest = pull(entry, accept_licence=True, progress=progress)
    except KeyboardInterrupt:
        part = partial_dir(models_dir(), entry.name)
        print("\nhelios: interrupted: nothing was installed"
              + (f"; the files that arrived whole are kept in {part} for the next pull "
                 f"(`helios models rm {entry.name}` deletes them)" if part.exists() else ""),
              file=sys.stderr)
        raise
    except PullError as exc:
        if progress.tty:
            sys.stderr.write("\n")
        raise CliError(str(exc)) from None
    if progress.tty:
        sys.stderr.write("\n")
    print(dest)
    print(f"helios: installed {entry.name}; analyze with it: helios models use {entry.name}",
          file=sys.stderr)
    if entry.is_llama:
        print(f"helios: {BUILT_WITH_LLAMA}", file=sys.stderr)
    return EXIT_OK


def _active_model(args) -> Path | None:
    from ..engines.catalog import active_model_path

    return active_model_path(settings_from(args))


def _models_rm(args) -> int:
    from ..engines.hub_pull import PullError, remove
    from ..paths import models_dir

    target = models_dir() / args.name
    active = _active_model(args)
    if active is not None and target.exists() and active.resolve() == target.resolve():
        raise CliError(f"{args.name} is the active model (model_path); choose another with "
                       "`helios models use NAME|PATH` first")
    try:
        removed = remove(args.name)
    except (PullError, OSError) as exc:
        raise CliError(f"cannot remove {args.name}: {exc}") from None
    if not removed:
        raise CliError(f"no model named {args.name} in {models_dir()} (helios models list)")
    for path in removed:
        print(f"removed {path}")
    return EXIT_OK


def _models_use(args) -> int:
    from ..config import save_user_settings
    from ..engines.catalog import use_model

    settings = settings_from(args)
    try:
        folder, changes, notes = use_model(args.model, settings)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    path = save_user_settings(changes)
    print(f"model_path: {folder}  (written to {path})")
    for note in notes:
        print(f"helios: note: {note}", file=sys.stderr)
    return EXIT_OK


def _models_servers(args) -> int:
    from ..engines.local_servers import DEFAULT_PORTS, probe_servers

    ports = args.port or None
    found = probe_servers(ports, deadline=args.timeout)
    if args.json:
        print(json.dumps([s.as_json() for s in found], indent=2))
        return EXIT_OK
    asked = ", ".join(str(p) for p in (ports or DEFAULT_PORTS))
    if not found:
        print(f"no model server answers on 127.0.0.1 ports {asked}")
        return EXIT_OK
    print(f"  {'SERVER':<13} {'PORT':>5}  {'URL':<28}  MODELS")
    for s in found:
        print(f"  {s.name:<13} {s.port:>5}  {s.base_url:<28}  {', '.join(s.models) or '(none listed)'}")
    s = found[0]
    print(f"use one: helios analyze FOLDER --endpoint {s.base_url} --api-model "
          f"{s.models[0] if s.models else 'NAME'}")
    return EXIT_OK


def add_parsers(msub, common) -> None:
    q = msub.add_parser("list", help="the installed models; * marks the active one")
    common(q)
    q = msub.add_parser("catalog", help="models to download, with their fit for this machine")
    q.add_argument("--json", action="store_true", help="print the entries as JSON")
    q = msub.add_parser("pull", help="download a catalog model (its licence is shown first)")
    q.add_argument("name")
    q.add_argument("--yes", "-y", action="store_true",
                   help="accept the model's licence without asking (scripts)")
    q = msub.add_parser("rm", help="delete an installed model (or an unfinished pull of it)")
    q.add_argument("name")
    common(q)
    q = msub.add_parser("use", help="make a model the active one: writes model_path into the "
                        "per-user config file")
    q.add_argument("model", metavar="NAME|PATH")
    common(q)
    q = msub.add_parser("servers", help="model servers running on this machine (loopback "
                        "default ports) and their models")
    q.add_argument("--json", action="store_true")
    q.add_argument("--port", type=int, action="append",
                   help="probe this port instead of the defaults (repeatable)")
    q.add_argument("--timeout", type=float, default=1.5, metavar="SECONDS",
                   help="deadline for all ports together (default 1.5)")
