"""Run a benchmark by name: python -m bench seed | vendors | approvals."""
from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("seed", "vendors", "approvals")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHMARKS:
        print(f"usage: python -m bench {{{'|'.join(BENCHMARKS)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{sys.argv[1]}")
    return module.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
