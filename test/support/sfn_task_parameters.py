"""Checks Step Functions task states against AWS's API models, as botocore (Debian python3-botocore) has them.

Reads JSON on stdin: a list of {"state", "service", "operation", "output_operation", "parameters",
"result_paths"}. "parameters" is the state's Parameters with every dynamic value ("Key.$": path)
already renamed to "Key" and set to the marker "<path>"; the marker is replaced by a value of the
member's type before botocore's ParamValidator validates the request, so only what the template
fixes is judged (names, nesting, types, enums, ranges). "result_paths" are the JSONPaths of the
state's ResultSelector, checked against the output shape of "output_operation" (the operation whose
answer the state receives: the Describe*/Get* call for .sync integrations).
Writes JSON on stdout: a list of {"state", "problem"}.
"""
import json
import sys

import botocore.session
from botocore.validate import ParamValidator

MARKER = "<path>"
session = botocore.session.get_session()


def placeholder(shape):
    kind = shape.type_name
    if kind == "string":
        enum = shape.metadata.get("enum")
        return enum[0] if enum else "x" * max(1, shape.metadata.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return "2026-01-01T00:00:00Z"
    if kind == "list":
        return []
    return {}


def fill(value, shape):
    """The parameters with markers replaced by values of their shape's type (unknown members left as they are)."""
    if value == MARKER:
        return placeholder(shape)
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: (fill(v, shape.members[k]) if k in shape.members else v) for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [fill(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: fill(v, shape.value) for k, v in value.items()}
    if shape.type_name == "blob" and not isinstance(value, (bytes, str)):
        return b"x"  # Step Functions serializes a JSON payload into the blob
    return value


def path_problem(path, shape):
    """None when the JSONPath ($.A.B[0].C) names members the output shape has."""
    steps = path[2:].replace("[", ".[").split(".") if path != "$" else []
    for step in steps:
        if step.startswith("["):
            if shape.type_name != "list":
                return f"{path}: {step} indexes a {shape.type_name}"
            shape = shape.member
            continue
        if shape.type_name != "structure" or step not in shape.members:
            return f"{path}: the output has no member {step}"
        shape = shape.members[step]
    return None


def main():
    problems = []
    for task in json.load(sys.stdin):
        model = session.get_service_model(task["service"])
        operation = model.operation_model(task["operation"])
        params = fill(task["parameters"], operation.input_shape)
        report = ParamValidator().validate(params, operation.input_shape)
        if report.has_errors():
            problems.append({"state": task["state"], "problem": report.generate_report()})
        output = model.operation_model(task["output_operation"]).output_shape
        for path in task["result_paths"]:
            problem = path_problem(path, output)
            if problem:
                problems.append({"state": task["state"], "problem": problem})
    json.dump(problems, sys.stdout)


main()
