"""The cyclic collector is paused for a block or a call and comes back as it was, even on an error."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from wbs_tools.core.gcpause import collector_paused, without_collector


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_a_block_pauses_it_and_the_outermost_brings_it_back() -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner pause must not bring the collector back"
    assert gc.isenabled()


def test_an_error_brings_it_back() -> None:
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("x")
    assert gc.isenabled()

    @without_collector
    def failing() -> None:
        assert not gc.isenabled()
        raise ValueError("y")

    with pytest.raises(ValueError):
        failing()
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()

    @without_collector
    def seen() -> bool:
        return gc.isenabled()

    with collector_paused():
        pass
    assert seen() is False and not gc.isenabled()
