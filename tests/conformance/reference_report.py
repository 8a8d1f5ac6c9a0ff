#!/usr/bin/env python3
"""Validates every case under a directory with frictionless-py, in one process.

    python3 reference_report.py CASES_DIR

Each case is a directory holding `schema.json` and `data.csv`. Prints one JSON
object: case name -> sorted list of [row, field, type], where row is 1 for
header (label) errors and field is null for row-level errors. The Rust test
`conformance` compares this with droplake's own report.
"""
import json, os, sys

from frictionless import Resource, Schema, validate

# frictionless refuses absolute data paths as unsafe: work relative to the cases.
os.chdir(sys.argv[1])
report = {}
for case in sorted(os.listdir(".")):
    if not os.path.isdir(case):
        continue
    schema = Schema.from_descriptor(os.path.join(case, "schema.json"))
    resource = Resource(path="data.csv", basepath=case, schema=schema)
    result = validate(resource, limit_errors=10_000)
    found = set()
    for task in result.tasks:
        for error in task.errors:
            row = getattr(error, "row_number", None)
            if row is None and getattr(error, "row_numbers", None):
                row = error.row_numbers[0]
            if row is None and error.type.endswith("-label"):
                row = 1
            found.add((row, getattr(error, "field_name", None), error.type))
    report[case] = sorted(found, key=lambda item: (item[0] or 0, item[1] or "", item[2]))
json.dump(report, sys.stdout, indent=1)
print()
