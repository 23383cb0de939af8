"""What the "orphans" of the top-10 lists are, for new users (a diagnostic for issue 15's series rows).

    python benchmarks/orphan_kinds.py --results <compare.py --out folder> --models gnn most_popular [--data-dir <processed>]
    python benchmarks/orphan_kinds.py ... --list raw --given 5 --seed 1 [--name 10]   # also the 10 anime in most orphan slots

The orphan share (``gnn.train.metrics``) counts a top-10 slot whose anime has a PREQUEL or PARENT
relation, in a franchise the user rated nothing of. The series-aware list shows such a franchise
at its entry point in release order (``gnn.franchise``), so its "orphans" can be three things:

* ``later entry``: an anime after another one in release order (the list should never show one);
* ``prequel made later``: an entry point that MAL gives a PREQUEL released afterwards (Attack on
  Titan and its 2014 OVA): the right first thing to watch, counted by the literal definition;
* ``parent link``: an entry point or standalone work with a PARENT relation (a spin-off or recap's
  original, in another franchise).

``--list raw`` splits the orphans of the ranked top 10 instead (the list the new-user rows' orphan share
is measured on), where a franchise's later entries may stand without its entry point.

Held-out users given k ratings, as in the new-user ranking rows of the run with ``--seed`` (the same
seeded order and sample). A model with a checkpoint of that seed in the folder is read from it; a
closed-form one without (most_popular, ease) is fitted.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import run_dir  # noqa: E402
from benchmarks.run_args import finished_run_parser  # noqa: E402
from gnn.data.schema import RELATION_TYPES  # noqa: E402
from gnn.franchise import Franchises  # noqa: E402
from gnn.processed import ProcessedData, anime_metadata, load_processed  # noqa: E402

KINDS = ("later entry", "prequel made later", "parent link")


def orphan_kinds(lists: Sequence[Sequence[int]], rated: Sequence[Sequence[int]], by_relation: Franchises,
                 by_order: Franchises, types: Sequence[set[str]], named: Counter | None = None) -> dict[str, float]:
    """Shares of all filled slots: ``orphan_share`` (as :func:`gnn.train.metrics.orphan_sequel_share` with
    ``by_relation``) and its split into :data:`KINDS`. ``by_order``: the list's own franchises (release
    order); ``types[a]``: the relation types anime ``a`` states. 0 entries are empty slots. ``named``, if
    given, counts the orphan slots per ``(anime, kind)``."""
    kinds, slots = Counter(), 0
    for row, seen in zip(lists, rated):
        started = by_relation.started(seen)
        for a in row:
            if a <= 0:
                continue
            slots += 1
            if not by_relation.later[a] or int(by_relation.franchise[a]) in started:
                continue
            kind = KINDS[0] if by_order.later[a] else KINDS[1] if "PREQUEL" in types[a] else KINDS[2]
            kinds[kind] += 1
            if named is not None:
                named[a, kind] += 1
    share = {k: kinds[k] / slots if slots else 0.0 for k in KINDS}
    return {"orphan_share": sum(share.values()), **share, "slots": slots}


def _model(results: Path, name: str, data: ProcessedData, seed: int = 0):
    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model
    from gnn.train.checkpoint import load_model

    path = run_dir(results, name, seed) / "best_model.pt"
    if path.exists():
        return load_model(path)[0]
    model = build_model(name, ModelContext.from_processed(data), None)
    if not model.fit_closed_form(data.train):
        raise SystemExit(f"{name}: no {path}, and it is not a closed-form model that can be fitted here")
    return model


def main(argv: list[str] | None = None) -> None:
    from gnn.train.metrics import franchises_of, held_out_cases, new_user_query, rank_lists

    parser = finished_run_parser(__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="processed folder (default: <results>/processed)")
    parser.add_argument("--given", type=int, default=10, help="ratings given per held-out user")
    parser.add_argument("--list", choices=("series", "raw"), default="series",
                        help="the series-aware list (one card per franchise) or the ranked top 10")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed: its checkpoint and held-out order")
    parser.add_argument("--name", type=int, default=0, metavar="N",
                        help="also name the N anime that fill the most orphan slots of each model (printed only)")
    args = parser.parse_args(argv)
    data = load_processed(args.data_dir or args.results / "processed")
    by_relation, by_order = franchises_of(data), franchises_of(data, later_by_relation=False)
    types = [{RELATION_TYPES[int(t)] for j, t in zip(js, ts) if j > 0}
             for js, ts in zip(data.tables.rel_idx.tolist(), data.tables.rel_type.tolist())]
    cases = held_out_cases(data, seed=args.seed)
    query, seen = new_user_query(data, cases, args.given)
    rated = [given[:args.given].tolist() for given, _, _, _ in cases]
    which = "series-aware" if args.list == "series" else "ranked"
    print(f"{len(cases)} held-out users given {args.given} ratings (seed {args.seed}); shares of the {which} top-10 slots")
    print("| model | orphan share | " + " | ".join(KINDS) + " |")
    print("|---|---:|" + "---:|" * len(KINDS))
    tops = {}
    for name in args.models:
        top, series = rank_lists(_model(args.results, name, data, args.seed), query, seen, by_relation, 10)
        lists = series if args.list == "series" else top[:, :10]
        named = Counter()
        r = orphan_kinds(lists.tolist(), rated, by_relation, by_order, types, named)
        print(f"| {name} | {r['orphan_share']:.3f} | " + " | ".join(f"{r[k]:.3f}" for k in KINDS) + " |")
        tops[name] = named.most_common(args.name), r["slots"]
    titles = {a: m.get("title") for a, m in anime_metadata(data.data_dir).items()} if args.name else {}
    for name, (top, slots) in tops.items():
        if top:
            print(f"\n{name}: the anime in most orphan slots (share of all slots, kind)")
            for (a, kind), n in top:
                print(f"  {titles.get(a) or f'anime index {a}'}: {n / slots:.3f} ({kind})")


if __name__ == "__main__":
    main()
