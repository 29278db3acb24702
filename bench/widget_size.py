"""Print the size of the widget script as served: raw and gzipped (budget: 6 KB gzipped).

    python bench/widget_size.py [path]

A benchmark, not a test: it prints figures and exits 0 (tests/test_widget_js.py holds the budget).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

BUDGET = 6 * 1024
DEFAULT = Path(__file__).resolve().parent.parent / "widget" / "sounding.js"


def main(argv: list[str]) -> None:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    raw = path.read_bytes()
    best = len(gzip.compress(raw, compresslevel=9))
    usual = len(gzip.compress(raw, compresslevel=6))  # what most servers and proxies use
    print(f"{path.name}: {len(raw):,} bytes raw")
    print(f"{path.name}: {best:,} bytes gzip -9, {usual:,} bytes gzip -6")
    print(f"budget: {BUDGET:,} bytes gzipped, {BUDGET - max(best, usual):,} bytes to spare")


if __name__ == "__main__":
    main(sys.argv)
