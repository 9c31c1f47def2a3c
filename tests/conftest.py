"""Test tiers: render tests run always; cluster tests only with --with-e2e.

Tests under tests/e2e/ are marked `e2e` automatically and sorted last, so a
failing render test is reported before the slow tier starts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.config import CHART_DIR

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


@pytest.fixture(scope="session")
def chart_copy_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Path]:
    """copy(version, app_version=None) -> a copy of the chart with that version.

    The copy's Chart.yaml gets `version` and, when given, `appVersion`; the
    rest of the chart is the working tree's.
    """

    def copy(version: str, app_version: str | None = None) -> Path:
        target = tmp_path_factory.mktemp(f"chart-{version}") / "fullstack"
        shutil.copytree(CHART_DIR, target)
        chart_yaml = target / "Chart.yaml"
        fields = {"version": version}
        if app_version is not None:
            fields["appVersion"] = f'"{app_version}"'
        lines = [
            next(
                (
                    f"{key}: {value}"
                    for key, value in fields.items()
                    if line.startswith(f"{key}:")
                ),
                line,
            )
            for line in chart_yaml.read_text().splitlines()
        ]
        chart_yaml.write_text("\n".join(lines) + "\n")
        return target

    return copy
