"""Runs the inference function under Hugging Face ZeroGPU when the app is on such a Space.

On ZeroGPU a GPU is attached only while a function decorated with `spaces.GPU` runs. The
`spaces` package is installed on Spaces and usually absent elsewhere, so the decorator is
applied only when it imports; the same code then runs unchanged on a CPU or a local GPU.
"""

from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


def on_gpu(fn: F) -> F:
    """`spaces.GPU(fn)` when the `spaces` package imports, else `fn` itself."""
    try:
        import spaces
    except ImportError:
        return fn
    return spaces.GPU(fn)
