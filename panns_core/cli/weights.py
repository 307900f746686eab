"""`panns download NAME...`, `panns list` and `panns export CHECKPOINT --onnx OUT`: the weights on this machine."""

from __future__ import annotations

from panns_core.errors import ConfigError


def add_parser(sub) -> None:
    d = sub.add_parser("download", help="fetch released checkpoints into the cache")
    d.add_argument("names", nargs="+")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=download)
    e = sub.add_parser("export", help="export a checkpoint to an ONNX graph for ONNX Runtime")
    e.add_argument(
        "name",
        metavar="CHECKPOINT",
        help="the weights: a released name, a .pth path, owner/repo or hf://owner/repo/file",
    )
    e.add_argument("--onnx", required=True, help="output .onnx file")
    e.add_argument("--arch", default=None, help="architecture of a bare checkpoint file")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=export)
    ls = sub.add_parser("list", help="list released checkpoints and whether they are cached")
    ls.set_defaults(func=list_releases)


def download(args) -> int:
    from panns_core.weights.cache import download as fetch
    from panns_core.weights.catalogue import get_weights

    for name in args.names:
        try:
            weights = get_weights(name)
        except KeyError as e:
            raise ConfigError(e.args[0]) from None
        print(fetch(weights, progress=not args.quiet))
    return 0


def export(args) -> int:
    """Write a checkpoint's model as a standalone ONNX graph (dynamic batch and length), checked against PyTorch."""
    from panns_core.inference.onnx_runtime import export_onnx
    from panns_core.inference.tagger import Tagger

    model = Tagger.from_pretrained(
        args.name, arch=args.arch, device="cpu", backend="torch", progress=not args.quiet
    ).model
    export_onnx(model, args.onnx)
    print(args.onnx)
    return 0


def list_releases(args) -> int:
    from panns_core.weights.cache import cached_path
    from panns_core.weights.catalogue import PRETRAINED

    for w in PRETRAINED.values():
        state = "cached" if cached_path(w).exists() else "not downloaded"
        print(f"{w.name:24s} {w.arch:24s} mAP {w.reported_map}  {state}  {w.url}")
    return 0
