"""The harness's deadline-based wait, without a cluster."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError

from harness.kube import WaitFailed, WaitTimeout, wait_until


def test_an_api_server_not_answering_yet_is_waited_for() -> None:
    # A kind node container restarted by Docker refuses connections for a
    # while; that is a state to wait through, not a crash.
    answers = iter([MaxRetryError(None, "/api/v1/nodes"), ApiException(503), "up"])

    def observe() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    state = wait_until(observe, lambda s: s == "up", what="api", timeout=5, interval=0)
    assert state == "up"


def test_timeout_names_what_was_awaited_and_the_last_state() -> None:
    def observe() -> str:
        raise MaxRetryError(None, "/api/v1/nodes", "connection refused")

    expected = "cluster nodes: not done after 0s; last state: API server unreachable"
    with pytest.raises(WaitTimeout, match=expected):
        wait_until(observe, bool, what="cluster nodes", timeout=0, interval=0)


def test_a_state_that_cannot_recover_stops_the_wait_at_once() -> None:
    expected = "job x: BackoffLimitExceeded; last state: 'failed'"
    with pytest.raises(WaitFailed, match=expected):
        wait_until(
            lambda: "failed",
            lambda s: s == "done",
            what="job x",
            timeout=60,
            failed=lambda s: "BackoffLimitExceeded",
        )
