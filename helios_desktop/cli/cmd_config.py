"""`helios config`: show the effective settings, calibrate workers x threads."""

from __future__ import annotations

import sys

from ..config import Settings
from .common import EXIT_OK, CliError, model_and_provider, settings_from


def run(args) -> int:
    from ..config import PRECEDENCE, config_file_in_use, user_config_path

    settings = settings_from(args)
    if args.config_cmd == "calibrate":
        return _calibrate(settings, args)
    from ..backend.sizing import note_for_show

    model, provider = model_and_provider(settings)
    extra, named_by = config_file_in_use(args.config)
    user = user_config_path()
    print(f"# per-user config file: {user}{'' if user.exists() else ' (not present)'}")
    if extra is not None:
        print(f"# config file ({named_by}): {extra}")
    print(f"# precedence: {PRECEDENCE}")
    print(settings.show(note_for_show(settings, model, provider)))
    return EXIT_OK


def _calibrate(settings: Settings, args) -> int:
    """`helios config calibrate`: measure workers x threads for the configured model now."""
    from ..backend.sizing import BUDGET_S, CalibrationError, cache_file, calibrate

    model, provider = model_and_provider(settings)
    if model is None:
        from ..engines.model_folder import resolve_model_folder

        from ..engines.registry import OPENAI, choose_engine

        if choose_engine(settings, resolve=False).engine == OPENAI:
            raise CliError("engine openai: the model servers size themselves; nothing to calibrate")
        try:
            resolve_model_folder(settings.model_path)
        except Exception as exc:
            raise CliError(str(exc)) from None
    if provider == "cuda":
        raise CliError("provider cuda: workers auto follows the GPUs' memory (one worker per GPU "
                       "unless more copies fit); the calibration is for the CPU (--provider cpu)")
    from ..engines.catalog import resolve_model_fields

    fields = resolve_model_fields(settings.model_fields, model)
    threads = None if settings.intra_op_threads == "auto" else settings.intra_op_threads
    try:
        # measures anew, whatever is cached (a failure included)
        entry = calibrate(model, provider, threads=threads, budget=args.budget or BUDGET_S,
                          progress=lambda m: print(f"helios: {m}", file=sys.stderr), reuse=False,
                          limits={"max_batch_size": settings.max_batch_size,
                                  "batching": settings.batching,
                                  "max_input_tokens": settings.max_input_tokens,
                                  "max_output_tokens": settings.max_output_tokens,
                                  "max_file_size": settings.max_file_size,
                                  "model_fields": None if fields is None else sorted(fields)})
    except CalibrationError as exc:
        raise CliError(f"calibration failed: {exc}") from None
    for m in entry["measured"]:
        print(f"{m['workers']} worker{'s' if m['workers'] != 1 else ''} x "
              f"{m['intra_op_threads']} thread{'s' if m['intra_op_threads'] != 1 else ''}: "
              f"{m['files_per_second']:.3f} files/s ({m['files']} files in {m['seconds']:.2f}s)")
    for problem in entry["problems"]:
        print(f"not measured: {problem}")
    print(f"chosen: workers {entry['workers']}, intra_op_threads {entry['intra_op_threads']} "
          f"for {model.name}; cached in {cache_file()}")
    return EXIT_OK



def register(sub, common) -> None:
    p = sub.add_parser("config", help="configuration")
    csub = p.add_subparsers(dest="config_cmd", required=True)
    q = csub.add_parser("show", help="print the effective configuration and its sources")
    common(q)
    q = csub.add_parser("calibrate", help="measure the fastest workers x intra_op_threads for the "
                        "configured model on this machine (CPU) and cache it for workers: auto")
    q.add_argument("--model", help="model folder (overrides model_path)")
    q.add_argument("--provider", choices=["auto", "cuda", "cpu"])
    q.add_argument("--budget", type=float, metavar="SECONDS",
                   help="time limit of the whole calibration (default 60)")
    common(q)
    p.set_defaults(func=run)
