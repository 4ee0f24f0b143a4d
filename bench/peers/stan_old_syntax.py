"""Rewrites a Stan >= 2.33 program into the pre-2.26 syntax that Stan 2.21 (Debian's rstan) reads.

Only the array declarations differ in the posteriordb programs that bench/vi/posteriordb-stan.ts runs:
  array[N] real y;            ->  real y[N];
  array[N, K] int<lower=0> c; ->  int<lower=0> c[N, K];
  array[K] simplex[K] theta;  ->  simplex[K] theta[K];
  array[] real z (arguments, return types) -> real[] z
A program that still holds `array[` afterwards is reported, not guessed at.

Usage: python3 bench/peers/stan_old_syntax.py model.stan > model_2.21.stan
"""

import re
import sys

# A Stan type after `array[...]`: an optional `data` qualifier, a name, optional <bounds>, optional [sizes].
TYPE = r"(?:data\s+)?[A-Za-z_]\w*(?:\s*<[^<>;]*>)?(?:\s*\[[^\[\];]*\])?"
DECL = re.compile(r"\barray\s*\[([^\[\];]*)\]\s*(" + TYPE + r")(\s+)([A-Za-z_]\w*)")


def convert(code: str) -> str:
    def repl(m: re.Match) -> str:
        dims, ty, space, name = m.group(1), m.group(2), m.group(3), m.group(4)
        if dims.replace(",", "").strip() == "":
            # Unsized (function signatures): the brackets go on the type.
            return f"{ty}[{dims.replace(' ', '')}]{space}{name}"
        return f"{ty}{space}{name}[{dims.strip()}]"

    out = DECL.sub(repl, code)
    if re.search(r"\barray\s*\[", out):
        raise SystemExit("stan_old_syntax: an array declaration this converter does not handle is left:\n"
                         + "\n".join(l for l in out.splitlines() if re.search(r"\barray\s*\[", l)))
    return out


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        sys.stdout.write(convert(f.read()))
