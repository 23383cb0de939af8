"""Which reasons the lists give held-out new users: the share of top-N slots per kind of reason.

    python benchmarks/reason_kinds.py --export <anime-gnn export folder> --data-dir <processed> [--given 10] [--top 10]
    python benchmarks/reason_kinds.py ... --status NOT_YET_RELEASED      # the announced list

Held-out users (the new-user ranking's seeded sample, ``gnn.train.metrics.held_out_cases``, at most
``--users``) are given their first ``--given`` ratings, as the page would be, and get the grouped list
of ``anime-gnn recommend`` (:class:`gnn.inference.OnnxRecommender`), through ``--status`` /
``--year-min`` as the CLI's filters (``series not started``: a later entry of a franchise the user
has not started, whose entry point the filter left out). Each row's reason is sorted by
:func:`reason_kind`. Two rows: with the export's display as it is, and with its co-rated lists taken
out, which is what the reasons said before "often watched with" (``gnn/reasons.py``).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Iterable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Checked in order: a franchise reason names a title, which could hold any other phrase.
KINDS = ((", which you rated", "franchise"), (", which is on your list", "franchise"),
         (", which you have not started", "series not started"), ("start of ", "series start"),
         ("same studio (", "studio"), ("often watched with ", "watched with"), ("popular with fans of ", "genre, none liked"),
         (", like ", "genre"), ("predicted from your ratings", "none"))


# An entry point's card adds this to the reason that names a liked anime (gnn.reasons.card_reason).
SERIES_START = "; start of its series ("


def reason_kind(reason: str) -> str:
    """The kind of one reason string of ``gnn.reasons`` / ``gnn.reasons.card_reason`` ("other" if none fits);
    an entry point's "<reason>; start of its series (N entries)" is of its reason's kind."""
    reason = reason.rsplit(SERIES_START, 1)[0]
    return next((kind for phrase, kind in KINDS if phrase in reason), "other")


def kind_shares(reasons: Iterable[str]) -> dict[str, float]:
    """Share of the reasons per kind, the most frequent first."""
    counts = Counter(map(reason_kind, reasons))
    total = sum(counts.values())
    return {kind: n / total for kind, n in counts.most_common()}


def main(argv: list[str] | None = None) -> None:
    from benchmarks.run_args import export_users_parser
    from gnn.filters import Filters
    from gnn.inference import OnnxRecommender
    from gnn.io import dumps_json
    from gnn.processed import load_processed
    from gnn.train.metrics import held_out_cases

    parser = export_users_parser(__doc__.splitlines()[0], top=10)
    parser.add_argument("--users", type=int, default=200, help="held-out users (the first of the seeded sample)")
    parser.add_argument("--status", action="append", default=[], metavar="STATUS",
                        help="only anime of this airing status, as `recommend --status` (repeatable)")
    parser.add_argument("--year-min", type=int, default=None, help="only anime from this year on")
    args = parser.parse_args(argv)
    filters = Filters(statuses=frozenset(s.upper() for s in args.status) or None, year_min=args.year_min)
    data = load_processed(args.data_dir)
    rec = OnnxRecommender.load(args.export)
    anime_id = rec.anime_ids
    histories = [[(anime_id[int(a)], float(r)) for a, r in zip(ga[:args.given], gr[:args.given])]
                 for ga, gr, _, _ in held_out_cases(data)[:args.users]]
    report = {}
    for name, display in (("as exported", rec.display),
                          ("without co-rated lists", [e if e is None else {k: v for k, v in e.items() if k != "corated"}
                                                      for e in rec.display])):
        rec.display = display
        reasons = [row["reason"] for h in histories for row in rec.recommend(history=h, k=args.top, filters=filters)]
        report[name] = {"slots": len(reasons), "shares": kind_shares(reasons)}
    print(dumps_json({"given": args.given, "top": args.top, "users": len(histories), "status": args.status,
                      "year_min": args.year_min, **report}, indent=2))


if __name__ == "__main__":
    main()
