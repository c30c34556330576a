"""Which share of the work this process does when a run is spread over processes by accelerate or torchrun.

Launched by ``accelerate launch --multi_gpu --num_processes N`` or ``torchrun --nproc_per_node N``, each process
sees ``WORLD_SIZE`` and its rank in the environment; accelerate's ``PartialState`` joins the
``torch.distributed`` process group (NCCL on GPUs, gloo on CPUs) and gives the rank, the process count, the
process's device and a barrier. Shard ``k`` is embedded by the process of rank ``k mod N``: a fixed assignment,
so the shards do not depend on the number of processes and a run may resume with a different one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run.

    Attributes:
        rank: its index, ``0 .. world - 1``.
        world: the number of processes.
        state: accelerate's ``PartialState`` in a multi-process run, else ``None``.
    """

    rank: int = 0
    world: int = 1
    state: Any = None

    @property
    def main(self) -> bool:
        """Whether this is the process that writes the manifest and reports."""
        return self.rank == 0

    def owns(self, shard: int) -> bool:
        """Whether this process embeds shard number ``shard``."""
        return shard % self.world == self.rank

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.state is not None:
            self.state.wait_for_everyone()

    def share(self, value: Any) -> Any:
        """The main process's ``value``, on every process (a broadcast; a plain return when run alone)."""
        if self.state is None:
            return value
        from accelerate.utils import broadcast_object_list

        return broadcast_object_list([value], from_process=0)[0]


def launched_world_size() -> int:
    """The number of processes a launcher (accelerate, torchrun) started; 1 when run directly."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def current_ranks(cpu: bool) -> Ranks:
    """This process's ranks; joins the process group through accelerate when a launcher started several.

    Args:
        cpu: the model runs on the CPU (gloo), not on an accelerator.
    """
    if launched_world_size() <= 1:
        return Ranks()
    from accelerate import PartialState

    state = PartialState(cpu=cpu)
    return Ranks(int(state.process_index), int(state.num_processes), state)


def process_device(cpu: bool) -> Any:
    """The device accelerate assigns to this process (its own GPU under a multi-GPU launch)."""
    if launched_world_size() <= 1:
        return "cpu" if cpu else "auto"
    from accelerate import PartialState

    return PartialState(cpu=cpu).device
