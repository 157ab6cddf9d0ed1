#!/usr/bin/env python3
"""itvalue's per-step times of its latest run, read back from the run ledger with
`itvalue history`, as TSV lines: scale, setting, round, step, milliseconds. The slowest models
follow as steps named `model:<name>`, and the run's peak memory up to the end of each step (the
ledger's `peak_rss_mib`, MiB) as steps named `mem:<step>`.

    ledger.py ITVALUE_BIN SCALE SETTING ROUND   (in the folder of the run's pipeline.toml)
"""

import json
import subprocess
import sys
from datetime import datetime


def when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")


def main() -> int:
    binary, scale, setting, rnd = sys.argv[1:5]
    runs = json.loads(subprocess.run([binary, "history", "--limit", "1", "--format", "json"],
                                     check=True, capture_output=True, text=True).stdout)
    run = runs[0] if isinstance(runs, list) else runs.get("runs", [runs])[0]
    run_id = run["run_id"] if "run_id" in run else run["run"]["run_id"]
    detail = json.loads(subprocess.run([binary, "history", "--run", run_id, "--format", "json"],
                                       check=True, capture_output=True, text=True).stdout)
    for step in detail["steps"]:
        ms = (when(step["finished_at"]) - when(step["started_at"])).total_seconds() * 1000
        print(f"{scale}\t{setting}\t{rnd}\t{step['step']}\t{ms:.0f}")
    for step in detail["steps"]:
        if step.get("peak_rss_mib") is not None:
            print(f"{scale}\t{setting}\t{rnd}\tmem:{step['step']}\t{step['peak_rss_mib']}")
    for model in sorted(detail.get("models", []), key=lambda m: -m["milliseconds"])[:3]:
        print(f"{scale}\t{setting}\t{rnd}\tmodel:{model['name']}\t{model['milliseconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
