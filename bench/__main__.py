"""Run a benchmark by name: python -m bench seed | vendors | approvals | import | parse | payouts | distribute | terms |
live | soak."""
from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("seed", "vendors", "approvals", "import", "parse", "payouts", "distribute", "terms", "live", "soak")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHMARKS:
        print(f"usage: python -m bench {{{'|'.join(BENCHMARKS)}}} [options]", file=sys.stderr)
        return 2
    # "import" is a Python keyword, so its module is bench/imports.py.
    module = importlib.import_module(f"bench.{ {'import': 'imports', 'parse': 'parsing'}.get(sys.argv[1], sys.argv[1])}")
    return module.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
