"""The random order of a randomised trial's periods, drawn from a recorded seed.

Each pair holds one control period (A: no magnesium, or a placebo when blinded) and one
magnesium period (B), in an order drawn by a coin per pair. The coin is the first bit of a
SHA-256 digest of the seed and the pair's number, so the allocation follows from the seed on
any computer and in any language, and can be checked by hand after the trial. Counterbalanced
pairs (ABBA) draw a coin per block of two pairs: the second pair mirrors the first, so a slow
drift over the weeks weighs on both arms alike.

The fingerprint is a digest of the seed and the allocation together. Shown when the trial
starts, it commits mgsleep to the allocation without revealing it (the seed is far too large
to guess), and lets anyone check afterwards that the revealed allocation is the one drawn.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from mgsleep.trial.kinds import Design

__all__ = [
    "SEED_BITS",
    "PairOrder",
    "draw_seed",
    "fingerprint",
    "pair_orders",
    "short_fingerprint",
]

PairOrder = Literal["ab", "ba"]  # "ab": control period first, then magnesium
# Below 2**63: fits a signed 64-bit integer and a JSON number exactly.
SEED_BITS = 62
_DOMAIN = "mgsleep-allocation-v1"
SHORT_FINGERPRINT_CHARS = 16


def draw_seed() -> int:
    """A seed from the operating system's secure source: nobody can choose or guess it."""
    return secrets.randbits(SEED_BITS)


def _coin(seed: int, index: int) -> PairOrder:
    digest = hashlib.sha256(f"{_DOMAIN}:{seed}:{index}".encode()).digest()
    return "ab" if digest[0] % 2 == 0 else "ba"


def _mirror(order: PairOrder) -> PairOrder:
    return "ba" if order == "ab" else "ab"


def pair_orders(design: Design, pairs: int, seed: int) -> tuple[PairOrder, ...]:
    """The order of each pair, first pair first."""
    if design is Design.pairs:
        return tuple(_coin(seed, index) for index in range(pairs))
    if design is Design.abba:
        orders: list[PairOrder] = []
        for block in range((pairs + 1) // 2):
            first = _coin(seed, block)
            orders += [first, _mirror(first)]
        return tuple(orders[:pairs])
    raise ValueError(f"{design.value} is not a randomised design")


def fingerprint(seed: int, orders: tuple[PairOrder, ...]) -> str:
    """The digest that commits to this allocation (hex, 64 characters)."""
    text = f"{_DOMAIN}:{seed}:{'-'.join(orders)}"
    return hashlib.sha256(text.encode()).hexdigest()


def short_fingerprint(digest: str) -> str:
    """The first 16 characters in groups of four: enough to compare by eye, e.g. on paper."""
    head = digest[:SHORT_FINGERPRINT_CHARS]
    return " ".join(head[i : i + 4] for i in range(0, len(head), 4))
