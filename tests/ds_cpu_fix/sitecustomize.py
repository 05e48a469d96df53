"""Test-only backport of deepspeedai/DeepSpeed#8539 for the ZeRO-3 CPU test (deepspeed < 0.19 on gloo).

``Init._allgather_params_coalesced`` launches one async all-gather per parameter but waits only for the last one.
On CUDA the stream orders them; on gloo every handle runs on its own thread, so a parameter can be read before its
gather lands: uninitialised memory (values like 1e37 or -6e-23) ends up in the weights. With transformers 5 this
hits ``from_pretrained`` under ``zero.Init`` (each module's weight and bias are gathered together to load them),
and a CPU ZeRO-3 run then trains with garbage in random layers, in about one run in three. GPU runs (NCCL) are not
affected. The upstream fix waits for every handle; this module does the same by making each all-gather issued
inside that method complete before it returns.

It is put on ``PYTHONPATH`` of the training subprocesses only (Python imports ``sitecustomize`` at start-up), and
patches ``deepspeed.runtime.zero.partition_parameters`` when that module is first imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

_TARGET = "deepspeed.runtime.zero.partition_parameters"


def _waiting(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        handle = fn(*args, **kwargs)
        if kwargs.get("async_op") and handle is not None:
            handle.wait()
        return handle

    return call


def _patch(module: ModuleType) -> None:
    init = module.Init
    if getattr(init, "_waits_for_every_gather", False):
        return
    original = init._allgather_params_coalesced
    comm = module.dist

    def _allgather_params_coalesced(self: Any, *args: Any, **kwargs: Any) -> Any:
        saved = comm.all_gather_into_tensor, comm.all_gather
        comm.all_gather_into_tensor, comm.all_gather = _waiting(saved[0]), _waiting(saved[1])
        try:
            return original(self, *args, **kwargs)
        finally:
            comm.all_gather_into_tensor, comm.all_gather = saved

    init._allgather_params_coalesced = _allgather_params_coalesced
    init._waits_for_every_gather = True


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            _patch(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _PatchOnImport())
