"""Test tiers: render tests run always; cluster tests only with --with-e2e.

Tests under tests/e2e/ are marked `e2e` automatically and sorted last, so a
failing render test is reported before the slow tier starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

E2E_DIR = Path(__file__).parent / "e2e"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fullstack")
    group.addoption(
        "--with-e2e",
        action="store_true",
        help="also run the tests that install the chart into a kind cluster",
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    with_e2e = config.getoption("--with-e2e")
    skip = pytest.mark.skip(reason="cluster test: run with --with-e2e (nox -s e2e)")
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
            if not with_e2e:
                item.add_marker(skip)
    items.sort(key=lambda item: E2E_DIR in Path(item.path).parents)
