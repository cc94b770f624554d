"""Random irreducible polynomials over GF(2) for the repository config.

restic refuses a config whose `chunker_polynomial` is not irreducible, and its Rabin chunker
needs degree 53; this engine also seeds its own chunker from the same value.
"""

from __future__ import annotations

import os


def _degree(x: int) -> int:
    return x.bit_length() - 1


def _mod(x: int, m: int) -> int:
    dm = _degree(m)
    while x and _degree(x) >= dm:
        x ^= m << (_degree(x) - dm)
    return x


def _mulmod(a: int, b: int, m: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
    return _mod(result, m)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, _mod(a, b)
    return a


def irreducible(f: int) -> bool:
    """Ben-Or's test: no factor of degree <= deg/2 divides f."""
    x = 2
    power = x
    for _ in range(_degree(f) // 2):
        power = _mulmod(power, power, f)
        if _gcd(f, power ^ x) != 1:
            return False
    return True


def random_polynomial() -> int:
    """A random irreducible polynomial of degree exactly 53 (as restic's DerivePolynomial)."""
    for _ in range(1_000_000):
        f = int.from_bytes(os.urandom(8), "little")
        f &= (1 << 54) - 1
        f |= (1 << 53) | 1
        if irreducible(f):
            return f
    raise RuntimeError("no irreducible polynomial found")
