"""Where the rating error comes from, for the goals that are not met: new users and cold anime.

    python benchmarks/error_floors.py --data-dir data/processed --run gnn=runs/gnn --run prior=runs/prior

Each ``--run NAME=DIR`` is an ``anime-gnn train --output-dir`` folder (its ``best_model.pt``) trained
on ``--data-dir``. Per run, one Markdown row:

* **new users**: the held-out users of the new-user rows (:func:`gnn.train.evaluate.new_user_cases`,
  seed ``--seed``), scored on a seeded ``--share`` of their targets (at least one each) from the first
  k = 5 / 10 / 20 of their given ratings and from **all** their other ratings: how much of the error at
  small k the model would lose if it knew the user as well as their whole list tells. Beside it, a bias
  model (mean + item bias from the training split + the user's mean residual over all their other
  ratings, :func:`known_offset_rmse`): the error left when a user's offset is known and nothing else.
  And how much of the k given ratings' own offset the model leaves unused (:func:`offset_response`): the
  slope of its error on the given ratings' shrunk mean residual, and its RMSE with that slope taken out.
* **cold anime** (a folder made with ``preprocess --cold-anime``): the cold RMSE split by
  :func:`bias_split` into the error an exact per-anime offset would remove (``item``) and the rest.
  A model whose ``item`` part is large misjudges how good the unseen anime is; the rest is how each
  user's rating strays from that anime's average, which warm anime have too. ``item_noise`` is the
  ``item`` part left by finite test ratings alone, and ``exact_item`` the cold RMSE the model would get if
  it knew each cold anime's true average (its rest unchanged).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run_args import parse_trained_runs, trained_runs_parser  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.processed import ProcessedData, load_processed  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402
from gnn.train.evaluate import (NEW_USER_KS, evaluate_cases, fmt_metric, known_histories,  # noqa: E402
                                 new_user_cases, predict_from_history, predict_split)

OFFSET_SHRINK = 2.0   # the given ratings' offset: their residuals' sum over (k + this)


def bias_split(error: np.ndarray, anime: np.ndarray) -> dict[str, float]:
    """``error`` (truth - prediction) per rating of ``anime``: ``rmse``, ``item`` (the RMS over ratings of
    their anime's mean error) and ``rest`` (the RMS of what is left), with rmse² = item² + rest².

    An anime's mean error over its n test ratings is noisy even for a model that knows the anime's true
    average: it varies by s²/n, s² the anime's within-anime error variance (unbiased; the pooled one for
    an anime rated once). ``item_noise`` is the ``item`` part such a model would still show, sqrt(Σ s² / N)
    over anime, and ``exact_item`` its RMSE with this model's ``rest``: sqrt(rest² + item_noise²), the
    best that knowing each anime's average exactly could give this model."""
    error = np.asarray(error, dtype=np.float64)
    _, group, count = np.unique(anime, return_inverse=True, return_counts=True)
    mean = np.bincount(group, weights=error) / count
    item, rest = mean[group], error - mean[group]
    square = np.bincount(group, weights=rest ** 2)
    several = count > 1
    var = square / np.maximum(count - 1, 1)
    var[~several] = square[several].sum() / max(int((count[several] - 1).sum()), 1)
    noise = np.sqrt(var.sum() / len(error))
    return {"rmse": float(np.sqrt(np.mean(error ** 2))), "item": float(np.sqrt(np.mean(item ** 2))),
            "rest": float(np.sqrt(np.mean(rest ** 2))), "item_noise": float(noise),
            "exact_item": float(np.sqrt(np.mean(rest ** 2) + noise ** 2))}


def all_but_cases(cases: list, share: float, seed: int) -> list:
    """:func:`new_user_cases`' tuples with a seeded ``share`` of each user's targets (at least one) kept as
    targets and the others appended to the given ratings, after the original given ones: the first k
    given are unchanged, and a user's whole given list is every rating but the kept targets."""
    rng = np.random.default_rng(seed)
    out = []
    for given_a, given_r, target_a, target_r in cases:
        keep = np.zeros(len(target_a), dtype=bool)
        keep[rng.permutation(len(target_a))[:max(1, round(share * len(target_a)))]] = True
        out.append((np.concatenate([given_a, target_a[~keep]]), np.concatenate([given_r, target_r[~keep]]),
                    target_a[keep], target_r[keep]))
    return out


def item_biases(split, n_anime: int, shrink: float = 5.0, rounds: int = 5) -> tuple[float, np.ndarray]:
    """``(global mean, item bias [n_anime])`` of the additive model mean + user bias + item bias, fitted on
    ``split`` by alternating shrunk means (each bias divided by its count + ``shrink``)."""
    user, anime, rating = split.user.numpy(), split.anime.numpy(), split.rating.double().numpy()
    mean = float(rating.mean()) if len(rating) else 0.0
    n_users = int(user.max()) + 1 if len(user) else 1
    u_bias, i_bias = np.zeros(n_users), np.zeros(n_anime)
    for _ in range(rounds):
        i_bias = np.bincount(anime, rating - mean - u_bias[user], n_anime) / (np.bincount(anime, minlength=n_anime) + shrink)
        u_bias = np.bincount(user, rating - mean - i_bias[anime], n_users) / (np.bincount(user, minlength=n_users) + shrink)
    return mean, i_bias


def known_offset_rmse(cases: list, mean: float, i_bias: np.ndarray) -> float:
    """RMSE on the cases' targets of ``mean + item bias + the user's mean residual over all their given
    ratings``: a bias model that knows each user's offset as well as their whole list tells."""
    errors = []
    for given_a, given_r, target_a, target_r in cases:
        offset = float(np.mean(given_r - mean - i_bias[given_a]))
        errors.append(target_r - mean - i_bias[target_a] - offset)
    return float(np.sqrt(np.mean(np.concatenate(errors) ** 2))) if errors else float("nan")


def offset_response(error: np.ndarray, offset: np.ndarray) -> dict[str, float]:
    """``error`` (truth - prediction) and ``offset`` (the user's offset as their given ratings tell it) per
    target: ``slope``, the least-squares b in error ~ b x offset (0 = the model follows the given offset
    as well as a linear fix could; > 0 = it follows it too little), and ``rmse_after``, the RMSE of
    error - slope x offset (one parameter fitted on the same targets: a bound, not a held-out number)."""
    error, offset = np.asarray(error, dtype=np.float64), np.asarray(offset, dtype=np.float64)
    norm = float(offset @ offset)
    slope = float(error @ offset) / norm if norm > 0 else 0.0
    return {"slope": slope, "rmse_after": float(np.sqrt(np.mean((error - slope * offset) ** 2)))}


def given_offset_errors(model, cases: list, k: int, mean: float, i_bias: np.ndarray,
                        shrink: float = OFFSET_SHRINK) -> tuple[np.ndarray, np.ndarray]:
    """``(error, offset)`` per target of ``cases`` when each user is given their first ``k`` ratings: the
    model's error and the given ratings' offset, sum(rating - mean - item bias) / (k + ``shrink``)."""
    errors, offsets = [], []
    for given_a, given_r, target_a, target_r in cases:
        pred = predict_from_history(model, torch.as_tensor(given_a[:k]), torch.as_tensor(given_r[:k]),
                                    torch.as_tensor(target_a)).double().numpy()
        errors.append(target_r - pred)
        residual = given_r[:k] - mean - i_bias[given_a[:k]]
        offsets.append(np.full(len(target_a), residual.sum() / (len(residual) + shrink)))
    return np.concatenate(errors), np.concatenate(offsets)


def floors(model, data: ProcessedData, share: float = 0.1, seed: int = 0) -> dict:
    """The new-user RMSE at each k and from all other ratings, and the cold split's :func:`bias_split`."""
    cases = all_but_cases(new_user_cases(data.holdout, max(NEW_USER_KS), seed), share, seed)
    users = evaluate_cases(model, cases, NEW_USER_KS)
    longest = max((len(c[0]) for c in cases), default=1)
    users["all"] = evaluate_cases(model, cases, (longest,))[f"k={longest}"]
    biases = item_biases(data.train, data.n_anime)
    users["all"]["biases_known_offset_rmse"] = known_offset_rmse(cases, *biases)
    if model.predicts_ratings and cases:
        for k in NEW_USER_KS:
            users[f"k={k}"]["given_offset"] = offset_response(*given_offset_errors(model, cases, k, *biases))
    result = {"new_users": users, "cold": None}
    if data.cold is not None and len(data.cold):
        histories = known_histories(model, data) if model.inductive else None
        pred = predict_split(model, data.cold, histories=histories).double().numpy()
        result["cold"] = bias_split(data.cold.rating.double().numpy() - pred, data.cold.anime.numpy())
    return result


def _unused(users: dict, ks: list[str]) -> str:
    """The table cell of :func:`offset_response` per k: ``slope (rmse_after)``, "–" where not measured."""
    parts = [users[k].get("given_offset") for k in ks]
    if not all(parts):
        return "–"
    return " / ".join(f"{p['slope']:.2f} ({p['rmse_after']:.4f})" for p in parts)


def main(argv: list[str] | None = None) -> None:
    parser = trained_runs_parser(__doc__.splitlines()[0], "the preprocess output the runs trained on")
    parser.add_argument("--share", type=float, default=0.1, help="share of each held-out user's targets scored")
    parser.add_argument("--seed", type=int, default=0, help="the new-user order's seed (compare.py: the run's seed)")
    args = parse_trained_runs(parser, argv)
    data = load_processed(args.data_dir)
    results = {}
    ks = [f"k={k}" for k in NEW_USER_KS]
    print("| run | " + " | ".join(f"new users {k} RMSE" for k in ks) + " | new users, all other ratings | "
          "biases, known offset | given offset unused, k = " + " / ".join(str(k) for k in NEW_USER_KS)
          + ": slope (RMSE without it) | users | cold RMSE | cold item part | cold rest | item part's noise | "
          "cold RMSE, exact anime averages |")
    print("|---|" + "---:|" * (len(ks) + 9))
    for name, folder in args.runs:
        r = results[name] = floors(load_model(folder / "best_model.pt")[0], data, args.share, args.seed)
        users, cold = r["new_users"], r["cold"] or {}
        print(f"| {name} | " + " | ".join(fmt_metric(users[k]["rmse"]) for k in [*ks, "all"])
              + f" | {fmt_metric(users['all']['biases_known_offset_rmse'])} | {_unused(users, ks)}"
              + f" | {users['all']['users']} | "
              + " | ".join(fmt_metric(cold.get(p)) for p in ("rmse", "item", "rest", "item_noise", "exact_item"))
              + " |", flush=True)
    if args.out:
        write_json(args.out, finite_or_null({"data_dir": str(args.data_dir), "share": args.share, "seed": args.seed,
                                             "results": results}))


if __name__ == "__main__":
    main()
