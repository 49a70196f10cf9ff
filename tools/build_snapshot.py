"""Rewrite data/home_snapshot.json, Home's precomputed view while the model loads:
`python -m tools.build_snapshot` (tests/test_snapshot.py checks the shipped file against the model)."""

import json
from dataclasses import asdict

from explain.engine.models import load_model
from explain.snapshot import DEFAULT_PROMPT, SNAPSHOT_PATH, build_snapshot


def main() -> int:
    snapshot = build_snapshot(load_model(), DEFAULT_PROMPT)
    SNAPSHOT_PATH.write_text(json.dumps(asdict(snapshot), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
