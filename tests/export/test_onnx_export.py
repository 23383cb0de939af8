"""ONNX export: files, contract, parity with PyTorch, no message passing (the GNN); the baseline's own export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from gnn.export.onnx_export import export_model
from gnn.export.parity import session
from gnn.train.checkpoint import load_model
from tests.export import tiny


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return tiny.trained(tmp_path_factory)


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tiny.exported(tmp_path_factory)


def run(sess, hist: list[tuple[int, float]], anime, pad: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(score, rating)`` of the GNN export for one history: as many slots as it has entries (one at
    least), plus ``pad`` padding slots."""
    H = max(1, len(hist)) + pad
    h = np.zeros((1, H), dtype=np.int64)
    r = np.zeros((1, H), dtype=np.float32)
    for j, (a, rating) in enumerate(hist):
        h[0, j], r[0, j] = a, rating
    score, rating = sess.run(["score", "rating"], {"hist_anime": h, "hist_rating": r,
                                                  "anime": np.asarray(anime, dtype=np.int64)})
    return score, rating


def run_baseline(sess, user: int, hist: list[tuple[int, float]], anime, H: int) -> np.ndarray:
    h = np.zeros((1, H), dtype=np.int64)
    r = np.zeros((1, H), dtype=np.float32)
    for j, (a, rating) in enumerate(hist):
        h[0, j], r[0, j] = a, rating
    return sess.run(["rating"], {"user": np.array([user], dtype=np.int64), "hist_anime": h, "hist_rating": r,
                                 "anime": np.asarray(anime, dtype=np.int64)})[0]


def test_export_writes_the_contract(export_dir, model_dir):
    names = {p.name for p in export_dir.iterdir()}
    assert names == {"model.onnx", "onnx_model_metadata.json", "model_mappings.json", "anime_display.json",
                     "item_embeddings.bin", "user_ratings.bin"}
    meta = json.loads((export_dir / "onnx_model_metadata.json").read_text())
    assert meta["max_history"] == load_model(model_dir / "best_model.pt")[0].scoring_history   # the scoring cap
    assert [(i["name"], i["dtype"], i["shape"]) for i in meta["inputs"]] == [
        ("hist_anime", "int64", [1, "history"]), ("hist_rating", "float32", [1, "history"]),
        ("anime", "int64", ["batch"])]
    assert [(o["name"], o["dtype"], o["shape"]) for o in meta["outputs"]] == [
        ("score", "float32", ["batch"]), ("rating", "float32", ["batch"])]
    assert meta["opset"] == 18 and meta["exporter"] == "dynamo" and meta["rank_candidates"] >= 1
    assert meta["training"]["data_fingerprint"] and meta["training"]["test_metrics"]["rmse"] > 0
    p = meta["parity"]
    assert p["max_abs_diff"] <= 1e-4 and p["histories"] >= 20 and p["catalog_rows"] == tiny.N_ANIME
    for name, info in meta["files"].items():
        assert (export_dir / name).stat().st_size == info["bytes"]
    model = onnx.load(str(export_dir / "model.onnx"))
    assert model.opset_import[0].version == 18
    assert [i.name for i in model.graph.input] == ["hist_anime", "hist_rating", "anime"]
    assert [o.name for o in model.graph.output] == ["score", "rating"]
    assert all(o.type.tensor_type.shape.dim[0].dim_param for o in model.graph.output)
    hist_dims = [i.type.tensor_type.shape.dim[1].dim_param for i in model.graph.input[:2]]
    assert hist_dims[0] and hist_dims[0] == hist_dims[1]       # one free history length, shared by both inputs


def test_history_length_is_free_and_padding_changes_nothing(export_dir, model_dir):
    """The same history at its own length, with padding after it, and cut to the export's cap agree."""
    model, ctx, _ = load_model(model_dir / "best_model.pt")
    sess = session(export_dir / "model.onnx")
    few = np.arange(1, min(ctx.n_anime, model.config.rank_candidates + 1))
    hist = [(1, 9.0), (4, 3.0), (7, 8.0)]
    score, rating = run(sess, hist, few)
    for pad in (1, 30):
        padded_score, padded_rating = run(sess, hist, few, pad=pad)
        assert np.abs(padded_rating - rating).max() <= 1e-5 and np.abs(padded_score - score).max() <= 1e-5
    assert np.abs(run(sess, hist[:1], few)[1] - rating).max() > 1e-4    # the length is read, not fixed


def test_graph_holds_no_message_passing_and_compact_tables(export_dir, model_dir):
    """No encoder weight and no graph edge list is in the file; the anime vectors are int8."""
    model = onnx.load(str(export_dir / "model.onnx"))
    names = [t.name for t in model.graph.initializer]
    assert not any("encoder" in n or "adj" in n for n in names), names
    base, ctx, _ = load_model(model_dir / "best_model.pt")
    n_edges = len(ctx.ratings.anime)
    assert not any(tuple(t.dims) in ((2, n_edges), (n_edges,)) for t in model.graph.initializer)
    dtypes = {onnx.TensorProto.DataType.Name(t.data_type) for t in model.graph.initializer}
    assert "INT8" in dtypes   # the anime vectors; the small coded weight tables of a catalog this small are folded


def test_codebook_is_exact_for_few_values_and_close_for_many():
    from gnn.export.gnn_scorer import codebook

    rel = torch.tensor([[1.0, 0.6, 0.0], [0.2, 1.0, 0.0]])           # relation weights: a few distinct values
    codes, book = codebook(rel)
    assert codes.dtype == torch.uint8 and book.shape == (256,) and torch.equal(book[codes.long()], rel)
    many = torch.rand(40, 30) * 0.7
    many[:, -1] = 0.0                                                # padding
    codes, book = codebook(many)
    back = book[codes.long()]
    assert (back - many).abs().max() <= 0.5 * float(many.max()) / 255 + 1e-7 and bool((back[:, -1] == 0).all())
    with pytest.raises(Exception, match="non-negative"):
        codebook(torch.tensor([-0.1, 0.2]))


def test_sparse_table_groups_keep_only_filled_rows_and_give_the_full_tables_back(model_dir):
    from gnn.export.gnn_scorer import SPARSE_GROUPS, GNNScorer

    model, ctx, _ = load_model(model_dir / "best_model.pt")
    with torch.no_grad():
        scorer = GNNScorer(model, model.item_state())
    full, back = model.tables, scorer.tables()
    fills = []
    for key, members in SPARSE_GROUPS.items():
        filled = int((getattr(full, key) != 0).any(1).sum())
        fills.append(filled)
        for name in (key, *members):
            assert getattr(scorer, f"c_{name}").shape[0] == filled + 1   # + the all-padding row 0
            want, got = getattr(full, name), getattr(back, name)
            assert got.shape == want.shape and (torch.equal(got, want) if not want.is_floating_point()
                                                 else float((got - want).abs().max()) <= float(want.max()) / 255)
    assert torch.equal(back.genre_idx, full.genre_idx)             # a dense table stays as it is
    assert 0 < min(fills) < ctx.n_anime - 1                        # some anime have no relatives: rows saved


def test_onnx_matches_the_model_and_histories_matter(export_dir, model_dir):
    model, ctx, _ = load_model(model_dir / "best_model.pt")
    sess = session(export_dir / "model.onnx")
    C = model.config.rank_candidates
    few = np.arange(1, min(ctx.n_anime, C + 1))                      # at most C: every one rated
    score, rating = run(sess, [], few)
    assert np.isfinite(score).all() and ((rating >= 1) & (rating <= 10)).all()
    likes_score, likes_s1 = run(sess, [(1, 10.0), (4, 9.0)], few)
    hates_s1 = run(sess, [(1, 1.0), (4, 2.0)], few)[1]
    assert np.abs(likes_s1 - hates_s1).max() > 1e-4
    # The same numbers as the PyTorch model reading the same int8 vectors (the parity check's reference).
    from gnn.export.gnn_scorer import GNNScorer

    with torch.no_grad():
        scorer = GNNScorer(model, model.item_state())
    h, tables = scorer.reference_tables()
    H = model.config.max_history
    hist = torch.zeros(1, H, dtype=torch.long)
    hist[0, :2] = torch.tensor([1, 4])
    z = torch.zeros(1, H)
    z[0, :2] = model.normalize(torch.tensor([10.0, 9.0]))
    with torch.no_grad():
        want_score, want_rating = model.score_candidates(hist, z, torch.from_numpy(few), h, tables)
    assert np.abs(likes_s1 - want_rating.numpy()).max() <= 1e-4
    assert np.abs(likes_score - want_score.numpy()).max() <= 1e-4


def test_display_relations_and_embeddings(export_dir):
    display = json.loads((export_dir / "anime_display.json").read_text())
    assert display[0] is None and len(display) == tiny.N_ANIME + 1
    s2 = tiny.title_index(export_dir, "Show 0 S2")
    s1 = tiny.title_index(export_dir, "Show 0 S1")
    assert [s1, "PREQUEL"] in display[s2]["relations"]   # S1 is S2's prequel
    bare = display[tiny.title_index(export_dir, "Bare")]
    assert bare["studios"] == [] and bare["relations"] == [] and bare["genres"] == []
    assert display[s2]["studios"] == ["Studio 0"] and display[s2]["format"] == "MOVIE"
    meta = json.loads((export_dir / "onnx_model_metadata.json").read_text())
    emb = np.fromfile(export_dir / "item_embeddings.bin", dtype="<f4").reshape(meta["item_embeddings"]["shape"])
    assert emb.shape[0] == tiny.N_ANIME + 1 and not emb[0].any()
    assert np.allclose(np.linalg.norm(emb[1:], axis=1), 1.0, atol=1e-5)


def test_display_carries_the_model_s_co_rated_lists(export_dir, model_dir):
    """The reasons' "often watched with" reads the very table the model's watch score reads."""
    display = json.loads((export_dir / "anime_display.json").read_text())
    table = load_model(model_dir / "best_model.pt")[0].tables.co_idx
    assert table.shape[1] > 1 and any(e["corated"] for e in display[1:] if e)
    for a, entry in enumerate(display[1:], start=1):
        assert entry["corated"] == [int(j) for j in table[a] if j > 0]


def test_baseline_exports_without_users_and_fp16(tmp_path_factory):
    """The older architecture keeps its own export (ID table, one output)."""
    baseline = tiny.trained(tmp_path_factory, "baseline")
    out = tmp_path_factory.mktemp("baseline_export") / "model"
    r = export_model(baseline, out, exporter="torchscript", user_table="drop", max_history=8)
    assert not r.user_table and r.parity.user_pairs == 0 and r.parity.history_pairs >= 1000
    assert r.parity.max_abs_diff <= 1e-4
    assert "user" not in json.loads((out / "model_mappings.json").read_text())
    assert not (out / "user_ratings.bin").exists()
    assert all("corated" not in e for e in json.loads((out / "anime_display.json").read_text())[1:] if e)
    sess = session(out / "model.onnx")
    # Without a user table, a user index is ignored: the history decides.
    assert np.array_equal(run_baseline(sess, 3, [(2, 8.0)], [5, 6], H=8), run_baseline(sess, 0, [(2, 8.0)], [5, 6], H=8))

    half = export_model(baseline, tmp_path_factory.mktemp("fp16") / "model", exporter="torchscript",
                        fp16_tables=True)
    meta = json.loads((half.output_dir / "onnx_model_metadata.json").read_text())
    assert meta["table_dtype"] == "float16" and meta["parity"]["tolerance"] == 1e-2
    assert half.parity.max_abs_diff <= 1e-2


def test_baseline_parity_runs_every_check_and_catches_a_changed_model(tmp_path_factory):
    """The baseline's parity check (gnn/export/parity.py): its counts, and a model that differs is refused."""
    from gnn.export import ExportError
    from gnn.export.parity import check_parity

    baseline = tiny.trained(tmp_path_factory, "baseline")
    out = tmp_path_factory.mktemp("baseline_keep") / "model"
    p = export_model(baseline, out, exporter="torchscript", user_table="keep", max_history=8).parity
    # 1000 known-user pairs (50 users x 20), 24 histories x 50 candidates plus their own anime
    # (lengths 0, 1, 8, 8, 2, 5 and 18 random ones), the whole catalog (padding row included).
    assert (p.user_pairs, p.histories, p.catalog_rows) == (1000, 24, tiny.N_ANIME + 1)
    assert 24 * 50 + 24 <= p.history_pairs <= 24 * 50 + 24 * 8 and p.max_abs_diff <= 1e-4
    model, ctx, _ = load_model(baseline / "best_model.pt")
    assert check_parity(model, out / "model.onnx", ctx.n_anime, 8, True) == p   # seeded: the same report
    model.rating_mean += 0.5   # a known user's prediction 0.5 higher (a history's also reads the mean)
    with pytest.raises(ExportError, match=r"^parity check failed: max \|ONNX - PyTorch\| = \d\.\d+ > tolerance "
                                          r"0\.0001 \(users 0\.5"):
        check_parity(model, out / "model.onnx", ctx.n_anime, 8, True)


def _with_option(model_dir, **option):
    """The tiny trained gnn model rebuilt with a model option changed (weights it lacks keep their init)."""
    from dataclasses import asdict

    from gnn.models import registry

    trained, ctx, _ = load_model(model_dir / "best_model.pt")
    model = registry.build_model("gnn", ctx, {**asdict(trained.config), **option})
    model.load_state_dict(trained.state_dict(), strict=False)
    return model


def _export_checked(model, path: Path):
    """``model`` exported to ``path`` as ``export`` writes it, parity with PyTorch checked; its session."""
    from gnn.export.gnn_export import DYNAMIC, OUTPUTS, example_inputs
    from gnn.export.gnn_parity import check_gnn_parity
    from gnn.export.gnn_scorer import GNNScorer
    from gnn.export.onnx_export import write_onnx

    with torch.no_grad():
        scorer = GNNScorer(model.eval(), model.item_state()).eval()
    write_onnx(scorer, path, model.scoring_history, inputs=example_inputs(), outputs=OUTPUTS,
               fold_constants=False, dynamic=DYNAMIC)
    assert check_gnn_parity(scorer, model, path, model.scoring_history).max_abs_diff <= 1e-4
    return session(path)


def test_the_unrated_watch_offset_is_exported(model_dir, tmp_path):
    """unrated_watch_offset: the ONNX model adds the learned offset to the anime with no training rating,
    as the PyTorch model does (parity), and only to them."""
    model = _with_option(model_dir, unrated_watch_offset=True)
    model.watch.unrated[[3, 7]] = True                 # as if nobody had rated anime 3 and 7
    few = np.array([2, 3, 4, 7])
    scores = {}
    for offset in (0.0, -3.0):
        with torch.no_grad():
            model.watch.unrated_offset.fill_(offset)
        sess = _export_checked(model, tmp_path / f"offset{offset}.onnx")
        scores[offset] = np.stack([run(sess, [(1, 9.0)], [a])[0] for a in few]).ravel()   # one candidate: rated
    assert np.allclose(scores[-3.0] - scores[0.0], [0.0, -3.0, 0.0, -3.0], atol=1e-4)


def test_the_history_offset_is_exported(model_dir, tmp_path):
    """history_offset (faded, the default): the ONNX model adds the user's shrunk offset (parity with
    PyTorch), one shift for every candidate outside the history, none when its weight is 0."""
    model = _with_option(model_dir, history_offset=True, offset_fade=True)
    few, hist = np.array([4, 5, 6]), [(1, 10.0), (2, 9.0)]
    ratings = {}
    for weight in (0.0, 1.0):
        with torch.no_grad():
            model.offset.weight.fill_(weight)
        sess = _export_checked(model, tmp_path / f"offset{weight}.onnx")
        ratings[weight] = np.stack([run(sess, hist, [a])[1] for a in few]).ravel()
    shift = ratings[1.0] - ratings[0.0]
    assert abs(shift[0]) > 1e-3 and np.allclose(shift, shift[0], atol=1e-4)


def test_the_cosine_lists_are_exported(model_dir, tmp_path):
    """corated_kind "cosine" (the default is "ease"): the ONNX model reads the model's cosine co-rated table
    (parity with PyTorch), which differs from the EASE one, so a history's co-rated pushes land where it says."""
    model = _with_option(model_dir, corated_kind="cosine")
    ease = load_model(model_dir / "best_model.pt")[0].tables.co_idx
    assert not torch.equal(model.tables.co_idx, ease) and (model.tables.co_idx > 0).any()
    sess = _export_checked(model, tmp_path / "cosine.onnx")
    assert np.isfinite(run(sess, [(1, 9.0), (4, 3.0)], np.arange(1, tiny.N_ANIME + 1))[0]).all()
