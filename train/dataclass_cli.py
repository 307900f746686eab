"""Command-line options generated from a config dataclass, so the two can never drift apart.

Each field becomes `--field-name` with the field's type, default and `metadata["help"]`;
booleans get `--flag/--no-flag`; `metadata["choices"]` limits the values; fields without a default
are required options.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing


def _base_type(hint):
    """int, float, str or bool out of `X` or `X | None`."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def add_arguments(parser: argparse.ArgumentParser, config_cls) -> None:
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        kind = _base_type(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        default = f.default if f.default is not dataclasses.MISSING else None
        help_text = f.metadata.get("help", "")
        if has_default and default is not None:
            help_text += f" (default: {default})"
        if kind is bool:
            parser.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default, help=help_text
            )
        else:
            parser.add_argument(
                flag,
                dest=f.name,
                type=kind,
                default=default,
                required=not has_default,
                metavar=None if f.metadata.get("choices") else f.name.upper(),
                choices=f.metadata.get("choices"),
                help=help_text,
            )


def from_namespace(config_cls, namespace: argparse.Namespace):
    names = {f.name for f in dataclasses.fields(config_cls)}
    return config_cls(**{k: v for k, v in vars(namespace).items() if k in names})
