"""The ``helios`` command line: the parser of every command, and ``main``."""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..config import ConfigError
from . import cmd_analyze, cmd_config, cmd_db, cmd_export, cmd_gui, cmd_models, cmd_search
from .common import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, CliError

# in the order of `helios --help`
COMMANDS = (cmd_analyze, cmd_db, cmd_export, cmd_search, cmd_models, cmd_config, cmd_gui)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helios", description="Analyze every file in a folder "
                                     "with a local language model.")
    parser.add_argument("--version", action="version", version=f"helios {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command")

    def common(p):
        p.add_argument("--config", help="YAML config file (default: the per-user one)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override any setting, e.g. --set max_batch_size=4 (repeatable)")

    for command in COMMANDS:
        command.register(sub, common)
    return parser


def _folder_means_gui(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`helios FOLDER` (how desktop launchers call programs) opens the window on FOLDER."""
    commands = next(a.choices for a in parser._actions
                    if isinstance(a, argparse._SubParsersAction))
    i = 0
    while i < len(argv) and argv[i] in ("-v", "--verbose"):
        i += 1
    rest = argv[i:]
    if (rest and rest[0] not in commands and rest[0] not in ("-h", "--help", "--version")
            and any(not a.startswith("-") for a in rest)):
        return [*argv[:i], "gui", *rest]
    return argv


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()
    parser = build_parser()
    argv = _folder_means_gui(parser, sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(argv)
    from ..logs import setup_logging
    from ..paths import state_dir

    setup_logging(state_dir() if args.command == "analyze" else None, args.verbose)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        return args.func(args)
    except (CliError, ConfigError) as exc:
        print(f"helios: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError as exc:
        if not _stdout_reader_gone():
            # a pipe of Helios's own broke (a worker died): an error like any other
            print(f"helios: error: {exc}", file=sys.stderr)
            return EXIT_FAIL
        # The reader closed the pipe (`helios export | head`): not an error. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK


def _stdout_reader_gone() -> bool:
    """Whether standard output is a pipe whose reading end is closed (POLLERR)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(mask & select.POLLERR for _, mask in poller.poll(0))
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
