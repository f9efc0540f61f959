# SPDX-License-Identifier: MIT
"""Reading sgad-train's JSON-lines log (train.jsonl), shared by the
experiment scripts. Standard library only."""
import json
import re


def parse_line(line):
    """One log record, non-finite figures as NaN. sgad-train writes them as
    null and names their keys in "nonfinite" (a null element of an array
    is one too); logs of older versions spelled them nan/inf, which the
    substitutions below still read."""
    line = re.sub(r"\bnan\b", "NaN", line)
    line = re.sub(r"\b(-?)inf\b", r"\1Infinity", line)
    record = json.loads(line)
    for key in record.pop("nonfinite", []):
        value = record.get(key)
        if isinstance(value, list):
            record[key] = [float("nan") if v is None else v for v in value]
        else:
            record[key] = float("nan")
    return record


def read_log(path):
    """All records of a train.jsonl, in order."""
    with open(path) as f:
        return [parse_line(line) for line in f if line.strip()]
