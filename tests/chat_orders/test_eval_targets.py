"""评测门槛 — the labelled set must stay at or above the issue's targets, and fast."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "chat_order_eval.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("chat_order_eval", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_labelled_set_is_large_enough(bench):
    records = bench.load_messages()
    assert len(records) >= 200
    assert len({record["category"] for record in records}) >= 8


def test_order_and_not_order_accuracy_meet_targets(bench):
    scores = bench.evaluate()
    failures = [f["record"]["id"] for s in scores.values() for f in s.failures]
    assert scores["orders"].as_dict()["message_accuracy"] >= 0.95, failures
    assert scores["not_order"].as_dict()["message_accuracy"] >= 0.95, failures


def test_holdout_set_meets_targets(bench):
    holdout = bench.DATA / "holdout.jsonl"
    scores = bench.evaluate(messages_path=holdout)
    failures = [f["record"]["id"] for s in scores.values() for f in s.failures]
    assert scores["orders"].as_dict()["message_accuracy"] >= 0.95, failures
    assert scores["not_order"].as_dict()["message_accuracy"] >= 0.95, failures


def test_second_blind_set_meets_targets(bench):
    blind2 = bench.DATA / "blind2.jsonl"
    records = bench.load_messages(blind2)
    assert len(records) >= 150
    scores = bench.evaluate(messages_path=blind2)
    failures = [f["record"]["id"] for s in scores.values() for f in s.failures]
    assert scores["orders"].as_dict()["message_accuracy"] >= 0.95, failures
    assert scores["not_order"].as_dict()["message_accuracy"] >= 0.95, failures


def test_parse_is_fast_on_2000_skus(bench):
    speed = bench.benchmark(size=2000, rounds=1)
    assert speed["skus"] == 2000
    assert speed["p99_ms"] < 50
