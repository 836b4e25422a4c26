"""Which policy runs each episode: a randomised, balanced order, and which scene it starts from."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Assignment", "balanced_assignment"]


@dataclass(frozen=True)
class Assignment:
    """Episode ``k`` (0-based) runs ``policies[k]`` on the scene ``scene_seeds[k]``."""

    policies: tuple[str, ...]
    scene_seeds: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.policies)


def balanced_assignment(names: Sequence[str], episodes: int, seed: int) -> Assignment:
    """Blocks of one episode per policy, each block in a random order (permuted blocks).

    After every complete block each policy has run equally often, so a session stopped early stays
    balanced within one episode, and drift (a tiring operator, a warming motor, a battery running down)
    falls on every policy alike. All episodes of a block share a scene seed: on a robot whose scene
    can be re-seeded (the sim) the policies face the same scenes, a paired design.
    """
    if not names:
        raise ValueError("no policies to assign")
    rng = random.Random(seed)
    order: list[str] = []
    seeds: list[int] = []
    block = 0
    while len(order) < episodes:
        permutation = list(names)
        rng.shuffle(permutation)
        take = permutation[: episodes - len(order)]
        order.extend(take)
        seeds.extend([seed * 100_003 + block] * len(take))
        block += 1
    return Assignment(tuple(order), tuple(seeds))
