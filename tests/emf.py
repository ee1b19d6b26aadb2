"""Reading the Embedded Metric Format lines the function prints, as CloudWatch would."""

from __future__ import annotations

import json

from create_thumbnail.metrics import NAMESPACE

Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], list[float]]


def emf_lines(text: str) -> list[dict]:
    """The EMF documents among stdout's lines, each checked against the format's essentials."""
    lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]
    for line in lines:
        [directive] = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE
        for metric in directive["Metrics"]:
            assert metric["Name"] in line  # the value sits at the top level under the name
        for dimension_set in directive["Dimensions"]:
            assert all(name in line for name in dimension_set)
    return lines


def metrics_of(text: str) -> Metrics:
    """(metric name, its dimensions other than service) -> values, summed over lines."""
    found: Metrics = {}
    for line in emf_lines(text):
        [directive] = line["_aws"]["CloudWatchMetrics"]
        dimensions = tuple((d, line[d]) for d in directive["Dimensions"][0] if d != "service")
        for metric in directive["Metrics"]:
            found.setdefault((metric["Name"], dimensions), []).extend(line[metric["Name"]])
    return found
