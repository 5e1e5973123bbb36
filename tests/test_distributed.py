"""tinify.distributed outside torchrun (a group of one) and in a real one-rank gloo group; the
two-rank behaviour is tests/train/test_torchrun.py."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch.distributed as dist
from hypothesis import given
from hypothesis import strategies as st

from tinify import distributed


def test_outside_a_group_every_call_is_a_group_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.init_from_env() == (0, 1)
    assert not dist.is_initialized()
    assert (distributed.rank(), distributed.world(), distributed.is_main()) == (0, 1, True)
    assert distributed.gather({"a": 1}) == [{"a": 1}]
    distributed.barrier()
    distributed.cleanup()


@given(st.lists(st.integers(), max_size=40), st.integers(1, 7))
def test_shard_puts_every_item_on_exactly_one_rank(items: list[int], world: int) -> None:
    shards = [distributed.shard(items, r, world) for r in range(world)]
    assert sorted(x for s in shards for x in s) == sorted(items)
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(("rank", "world"), [(0, 0), (-1, 2), (2, 2)])
def test_shard_rejects_a_rank_outside_the_world(rank: int, world: int) -> None:
    with pytest.raises(ValueError, match="rank must be in"):
        distributed.shard([1, 2, 3], rank, world)


@pytest.fixture
def one_rank_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A real one-rank gloo group; yields the barrier and destroy calls made on it, in order."""
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    calls: list[str] = []
    barrier, destroy = dist.barrier, dist.destroy_process_group

    def recorded_barrier() -> None:
        calls.append("barrier")
        barrier()

    def recorded_destroy() -> None:
        calls.append("destroy")
        destroy()

    monkeypatch.setattr(dist, "barrier", recorded_barrier)
    monkeypatch.setattr(dist, "destroy_process_group", recorded_destroy)
    try:
        yield calls
    finally:
        if dist.is_initialized():
            destroy()


def test_cleanup_waits_for_every_rank_before_leaving(one_rank_group: list[str]) -> None:
    assert (distributed.rank(), distributed.world()) == (0, 1)
    assert distributed.gather(3) == [3]
    distributed.cleanup()
    assert one_rank_group == ["barrier", "destroy"]
    assert not dist.is_initialized()


def test_leaving_waits_after_success_but_not_after_an_error(one_rank_group: list[str]) -> None:
    with pytest.raises(RuntimeError, match="rank failed"), distributed.leaving():
        raise RuntimeError("rank failed")
    # A failed rank must not wait at a barrier the others may never reach.
    assert one_rank_group == ["destroy"]
    assert not dist.is_initialized()
    with distributed.leaving():
        pass  # no group any more: nothing to leave
    assert one_rank_group == ["destroy"]


def test_leaving_a_block_that_ends_normally_waits_first(one_rank_group: list[str]) -> None:
    with distributed.leaving():
        assert distributed.gather("x") == ["x"]
    assert one_rank_group == ["barrier", "destroy"]
