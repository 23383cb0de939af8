"""Training tasks (gnn.train.tasks): targets never in their own history, each rating a target once per epoch."""

from __future__ import annotations

import pytest
import torch

from gnn.processed import RatingSplit
from gnn.train.config import SHORT_HISTORY, TrainConfig
from gnn.train.tasks import TaskSampler, draw_length


def _split() -> RatingSplit:
    # user 1: 70 ratings (3 chunks of up to 32), user 2: 5 ratings, user 3: 2 ratings, user 4: 1 rating
    rows = [(1, a, 1 + a % 10) for a in range(1, 71)] + [(2, a, 5.0) for a in range(3, 8)] + \
           [(3, 9, 8.0), (3, 10, 2.0), (4, 11, 7.0)]
    user, anime, rating = zip(*rows)
    return RatingSplit(torch.tensor(user), torch.tensor(anime), torch.tensor(rating, dtype=torch.float32))


def test_every_rating_is_a_target_once_and_never_in_its_own_history() -> None:
    split = _split()
    sampler = TaskSampler(split, n_users=5, mean=5.0, std=2.0, targets=32, max_history=16)
    batches = list(sampler.epoch(tasks_per_batch=3, gen=torch.Generator().manual_seed(0)))
    assert len(batches) == sampler.n_batches(3)
    seen: list[tuple[int, int]] = []
    for b in batches:
        for i in range(b.target.shape[0]):
            targets = b.target[i][b.target[i] > 0].tolist()
            hist = set(b.hist[i][b.hist[i] > 0].tolist())
            assert targets and not set(targets) & hist
            assert len(hist) <= 16
            edges = b.target_edge[i][b.target[i] > 0]
            assert torch.equal(split.anime[edges], torch.tensor(targets))       # edges point at the targets
            assert (split.user[edges] == b.user[i]).all()                        # the task's user rated them
            rated = set(b.rated[i][b.rated[i] > 0].tolist())
            assert set(targets) | hist <= rated
            seen += [(int(split.user[e]), int(split.anime[e])) for e in edges]
            # normalized ratings travel with their anime
            assert torch.allclose(b.target_z[i][b.target[i] > 0], (split.rating[edges] - 5.0) / 2.0)
    assert sorted(seen) == sorted(zip(split.user.tolist(), split.anime.tolist()))


def test_small_users_keep_a_history() -> None:
    sampler = TaskSampler(_split(), n_users=5, mean=5.0, std=2.0, targets=32, max_history=16)
    assert [sampler.chunk_size(n) for n in (70, 5, 2, 1)] == [32, 2, 1, 1]
    for b in sampler.epoch(tasks_per_batch=100, gen=torch.Generator().manual_seed(1)):
        for i in range(b.target.shape[0]):
            n_rated = int((b.rated[i] > 0).sum())
            if n_rated >= 2:
                assert (b.hist[i] > 0).any()


def test_the_same_seed_gives_the_same_batches_on_every_rank() -> None:
    sampler = TaskSampler(_split(), n_users=5, mean=5.0, std=2.0, targets=8, max_history=4)
    one = [b.target for b in sampler.epoch(2, torch.Generator().manual_seed(3))]
    again = [b.target for b in sampler.epoch(2, torch.Generator().manual_seed(3))]
    assert all(torch.equal(a, b) for a, b in zip(one, again))
    ranks = [[b.target for b in sampler.epoch(2, torch.Generator().manual_seed(3), rank=r, world=2)] for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == len(one) // 2 == sampler.n_batches(2, world=2)
    assert all(torch.equal(a, b) for a, b in zip(ranks[0] + ranks[1], one[0::2][:len(ranks[0])] + one[1::2]))


def test_log_lengths_favour_short_histories_and_stay_in_range() -> None:
    gen = torch.Generator().manual_seed(4)
    for kind in SHORT_HISTORY:
        assert all(1 <= draw_length(m, kind, gen) <= m for m in (1, 2, 7, 256) for _ in range(200))
    uniform = [draw_length(256, "uniform", gen) for _ in range(4000)]
    log = [draw_length(256, "log", gen) for _ in range(4000)]
    # P(n <= 16): 16/256 = 0.0625 uniformly; ln(17)/ln(257) = 0.51 on the log scale.
    assert abs(sum(n <= 16 for n in uniform) / 4000 - 0.0625) < 0.02
    assert abs(sum(n <= 16 for n in log) / 4000 - 0.51) < 0.03
    assert max(log) == 256 and min(log) == 1


def test_the_sampler_draws_its_short_histories_as_asked() -> None:
    split = RatingSplit(torch.full((300,), 1), torch.arange(1, 301), torch.full((300,), 7.0))
    lengths = {}
    for kind in SHORT_HISTORY:
        sampler = TaskSampler(split, n_users=2, mean=5.0, std=2.0, targets=1, max_history=256, short_history=kind)
        batches = sampler.epoch(tasks_per_batch=300, gen=torch.Generator().manual_seed(5))
        lengths[kind] = torch.cat([(b.hist > 0).sum(1) for b in batches])
    for n in lengths.values():
        assert len(n) == 300 and 0.4 < float((n == 256).float().mean()) < 0.6   # half keep everything (capped)
    assert float((lengths["log"] <= 16).float().mean()) > 3 * float((lengths["uniform"] <= 16).float().mean())
    with pytest.raises(ValueError, match="short_history must be one of uniform, log, got 'square'"):
        TaskSampler(split, n_users=2, mean=5.0, std=2.0, short_history="square")
    with pytest.raises(ValueError, match="short_history must be one of"):
        TrainConfig(short_history="square")


def test_an_epoch_holds_its_tasks_in_a_few_tensors_not_an_object_per_task() -> None:
    """Millions of (user, chunk) objects made every full garbage collection walk them (0.35 s a step at 60M)."""
    import gc

    n_users = 2000
    user = torch.arange(1, n_users + 1).repeat_interleave(4)
    split = RatingSplit(user, torch.arange(1, 5).repeat(n_users), torch.full((4 * n_users,), 7.0))
    sampler = TaskSampler(split, n_users=n_users + 1, mean=5.0, std=2.0, targets=2)
    gc.collect()
    before = len(gc.get_objects())
    tasks = sampler._tasks(torch.Generator().manual_seed(0))
    gc.collect()
    assert len(tasks[0]) == 2 * n_users                       # two chunks of two per user
    assert len(gc.get_objects()) - before < 50
