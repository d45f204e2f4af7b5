"""Command line: ``python -m selfsr_edu VERB ...`` (or the ``selfsr`` script).

Each verb lives next to the code it drives and exposes
``add_parser(subparsers)``, which registers its arguments and sets
``func(args) -> int``. The list below is the whole registry: add a verb by
adding its module here.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: Modules that define verbs, in the order ``--help`` lists them.
VERB_MODULES = [
    "selfsr_edu.data.cli",
    "selfsr_edu.train.degradation",
    "selfsr_edu.train.sr_cli",
    "selfsr_edu.data.synthfaces",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m selfsr_edu",
        description="SelfSR face super-resolution, teachable edition: data, training and evaluation verbs.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, FileExistsError, ValueError, NotADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
