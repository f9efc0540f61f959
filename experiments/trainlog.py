"""Reading sgad-train's JSON-lines log (train.jsonl), shared by the
experiment scripts. Standard library only."""
import json
import re


def parse_line(line):
    """One log record. sgad-train writes numbers with %g, which spells
    non-finite values nan/inf where JSON wants NaN/Infinity."""
    line = re.sub(r"\bnan\b", "NaN", line)
    line = re.sub(r"\b(-?)inf\b", r"\1Infinity", line)
    return json.loads(line)


def read_log(path):
    """All records of a train.jsonl, in order."""
    with open(path) as f:
        return [parse_line(line) for line in f if line.strip()]
