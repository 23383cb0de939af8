"""gnn/train/optim.py: lazy AdamW on row-sparse gradients, and clipping that counts them."""

from __future__ import annotations

import torch

from gnn.train.optim import LazyAdamW, clip_grad_norm

LR, WD = 0.05, 0.1


def _sparse(rows: list[int], values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """An embedding-style gradient: one row per occurrence, repeats not summed."""
    return torch.sparse_coo_tensor(torch.tensor([rows]), values, shape, check_invariants=True)


def test_lazy_rows_follow_adamw_while_touched_and_stay_put_when_left_out():
    """Rows 0 and 1 are in every step's gradient (row 1 twice: repeats are summed); rows 2-4 only in the
    first. Bugs caught: repeats not coalesced, a bias correction or decay off, untouched rows moved."""
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(5, 3, generator=gen)
    lazy_p, dense_p = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    lin_l, lin_d = torch.nn.Parameter(torch.ones(2, 2)), torch.nn.Parameter(torch.ones(2, 2))   # a dense one beside
    lazy = LazyAdamW([{"params": [lazy_p, lin_l]}], lr=LR, weight_decay=WD)
    dense = torch.optim.AdamW([{"params": [dense_p, lin_d]}], lr=LR, weight_decay=WD)
    after_first = None
    for step in range(4):
        rows = [0, 1, 2, 3, 4, 1] if step == 0 else [1, 0, 1]
        values = torch.randn(len(rows), 3, generator=gen)
        lin_grad = torch.randn(2, 2, generator=gen)
        lazy_p.grad, lin_l.grad = _sparse(rows, values, (5, 3)), lin_grad.clone()
        dense_p.grad = _sparse(rows, values, (5, 3)).to_dense()
        lin_d.grad = lin_grad.clone()
        lazy.step()
        dense.step()
        assert lazy_p.grad.is_sparse   # the gradient is left as it was given
        if step == 0:
            torch.testing.assert_close(lazy_p.data, dense_p.data)   # every row touched: AdamW itself
            after_first = lazy_p.detach().clone()
            moments = [lazy.state[lazy_p][k][2:].clone() for k in ("exp_avg", "exp_avg_sq")]
    torch.testing.assert_close(lazy_p.data[:2], dense_p.data[:2])
    torch.testing.assert_close(lin_l.data, lin_d.data)
    assert torch.equal(lazy_p.data[2:], after_first[2:])            # left out: not moved ...
    assert not torch.allclose(dense_p.data[2:], after_first[2:])    # ... where AdamW moves them by momentum
    assert all(torch.equal(lazy.state[lazy_p][k][2:], m) for k, m in zip(("exp_avg", "exp_avg_sq"), moments))
    assert float(lazy.state[lazy_p]["step"]) == 4


def test_lazy_state_round_trips_through_a_state_dict():
    """A resumed run continues exactly (the checkpoint stores the optimizer's state_dict)."""
    gen = torch.Generator().manual_seed(1)
    grads = [(torch.randint(0, 6, (4,), generator=gen).tolist(), torch.randn(4, 2, generator=gen)) for _ in range(4)]

    def run(split: bool) -> torch.Tensor:
        p = torch.nn.Parameter(torch.zeros(6, 2))
        opt = LazyAdamW([p], lr=LR, weight_decay=WD)
        for i, (rows, values) in enumerate(grads):
            if split and i == 2:
                state = opt.state_dict()
                opt = LazyAdamW([p], lr=LR, weight_decay=WD)
                opt.load_state_dict(state)
            p.grad = _sparse(rows, values, (6, 2))
            opt.step()
        return p.detach()

    assert torch.equal(run(False), run(True))


def test_clipping_counts_a_sparse_gradient_as_the_dense_one_it_stands_for():
    gen = torch.Generator().manual_seed(2)
    rows, values = [3, 0, 3, 3], torch.randn(4, 2, generator=gen)   # row 3 three times
    dense_grad = torch.randn(3, generator=gen)
    a, b = torch.nn.Parameter(torch.zeros(5, 2)), torch.nn.Parameter(torch.zeros(3))
    c, d = torch.nn.Parameter(torch.zeros(5, 2)), torch.nn.Parameter(torch.zeros(3))
    a.grad, b.grad = _sparse(rows, values, (5, 2)), dense_grad.clone()
    c.grad, d.grad = _sparse(rows, values, (5, 2)).to_dense(), dense_grad.clone()
    ours = clip_grad_norm([a, b], 0.5)
    torchs = torch.nn.utils.clip_grad_norm_([c, d], 0.5)
    torch.testing.assert_close(ours, torchs)
    assert float(ours) > 0.5   # it did clip
    torch.testing.assert_close(a.grad.to_dense(), c.grad)
    torch.testing.assert_close(b.grad, d.grad)
    torch.testing.assert_close(float(clip_grad_norm([c, d], 0.5)), 0.5, rtol=1e-4, atol=0)


def test_dense_embedding_grads_turns_sparse_tables_dense_and_counts_them():
    from gnn.train.optim import dense_embedding_grads

    model = torch.nn.ModuleDict({"users": torch.nn.Embedding(4, 2, sparse=True), "anime": torch.nn.Embedding(3, 2),
                                 "lin": torch.nn.Linear(2, 1)})
    assert dense_embedding_grads(model) == 1 and dense_embedding_grads(model) == 0
    model["users"](torch.tensor([1, 2])).sum().backward()
    assert not model["users"].weight.grad.is_sparse
