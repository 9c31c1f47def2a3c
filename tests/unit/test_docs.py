"""docs/failure-cases.md stays true to the tests it points at."""

from __future__ import annotations

import re

from harness.config import ROOT

CASES = (ROOT / "docs" / "failure-cases.md").read_text(encoding="utf-8")
TESTS = ROOT / "tests"


def test_every_test_file_named_in_the_catalogue_exists() -> None:
    named = set(re.findall(r"`(test_[a-z_]+\.py)`", CASES))
    existing = {path.name for path in TESTS.glob("*/test_*.py")}

    assert named, "no test files named in docs/failure-cases.md"
    assert named - existing == set()


def test_every_case_id_used_in_the_code_is_in_the_catalogue() -> None:
    listed = set(re.findall(r"\bC\d\d\b", CASES))
    used = set()
    for folder in ("tests", "harness", "charts"):
        for path in (ROOT / folder).rglob("*"):
            if (
                path.suffix in {".py", ".yaml", ".tpl", ".txt"}
                and "__snapshots__" not in path.parts
            ):
                used |= set(re.findall(r"\bC\d\d\b", path.read_text(encoding="utf-8")))

    assert used, "no case ids found in the code"
    assert used - listed == set()


def test_every_test_file_of_a_case_refers_to_it() -> None:
    # A file listed for a row names at least one of the row's ids (in a
    # comment or docstring of the test that covers it): a row cannot point at
    # a file that never heard of its cases. One id per file is enough, as a
    # row groups cases that one test often covers together.
    files = {path.name: path for path in TESTS.glob("*/test_*.py")}
    unrelated = []
    for line in CASES.splitlines():
        if not line.startswith("| C"):
            continue
        _, ids, _, tested_in, *_ = line.split("|")
        case_ids = re.findall(r"\bC\d\d\b", ids)
        for name in re.findall(r"`(test_[a-z_]+\.py)`", tested_in):
            text = files[name].read_text(encoding="utf-8")
            if not any(case_id in text for case_id in case_ids):
                unrelated.append(f"{name} for {', '.join(case_ids)}")

    assert unrelated == []
