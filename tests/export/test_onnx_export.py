"""ONNX export: files, contract, parity with PyTorch, no message passing, fp16 and user-table options."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from gnn.export.onnx_export import export_model
from gnn.export.parity import session
from gnn.models.base import Batch
from gnn.train.checkpoint import load_model
from gnn.train.series import with_series
from tests.export import tiny


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return tiny.trained(tmp_path_factory)


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tiny.exported(tmp_path_factory)


def run(sess, user: int, hist: list[tuple[int, float]], anime, H: int = 64) -> np.ndarray:
    h = np.zeros((1, H), dtype=np.int64)
    r = np.zeros((1, H), dtype=np.float32)
    for j, (a, rating) in enumerate(hist):
        h[0, j], r[0, j] = a, rating
    return sess.run(["rating"], {"user": np.array([user], dtype=np.int64), "hist_anime": h, "hist_rating": r,
                                 "anime": np.asarray(anime, dtype=np.int64)})[0]


def test_export_writes_the_contract(export_dir):
    names = {p.name for p in export_dir.iterdir()}
    assert names == {"model.onnx", "onnx_model_metadata.json", "model_mappings.json", "anime_display.json",
                     "item_embeddings.bin", "user_ratings.bin"}
    meta = json.loads((export_dir / "onnx_model_metadata.json").read_text())
    assert [(i["name"], i["dtype"], i["shape"]) for i in meta["inputs"]] == [
        ("user", "int64", [1]), ("hist_anime", "int64", [1, 64]), ("hist_rating", "float32", [1, 64]),
        ("anime", "int64", ["batch"])]
    assert [(o["name"], o["dtype"], o["shape"]) for o in meta["outputs"]] == [("rating", "float32", ["batch"])]
    assert meta["opset"] == 18 and meta["max_history"] == 64 and meta["table_dtype"] == "float32"
    assert meta["exporter"] == "dynamo"
    assert meta["training"]["data_fingerprint"] and meta["training"]["test_metrics"]["rmse"] > 0
    p = meta["parity"]
    assert p["max_abs_diff"] <= 1e-4 and p["user_pairs"] >= 1000 and p["histories"] >= 20
    for name, info in meta["files"].items():
        assert (export_dir / name).stat().st_size == info["bytes"]
    # The ONNX inputs/outputs are exactly the contract, with a dynamic batch.
    model = onnx.load(str(export_dir / "model.onnx"))
    assert model.opset_import[0].version == 18
    assert [i.name for i in model.graph.input] == ["user", "hist_anime", "hist_rating", "anime"]
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_param


def test_graph_holds_no_message_passing(export_dir):
    model = onnx.load(str(export_dir / "model.onnx"))
    ops = {n.op_type for n in model.graph.node}
    assert not ops & {"ScatterElements", "ScatterND", "Scatter", "Loop", "If"}, ops
    # One attention pool is left: the history's. Genre/tag/studio/relation pools would add four more.
    assert sum(n.op_type == "Softmax" for n in model.graph.node) == 1
    shapes = {tuple(t.dims) for t in model.graph.initializer}
    meta = json.loads((export_dir / "onnx_model_metadata.json").read_text())
    assert {tuple(v) for k, v in meta["tables"].items() if k != "note"} <= shapes


def test_onnx_matches_the_model_and_histories_matter(export_dir, model_dir):
    base, ctx, blob = load_model(model_dir / "best_model.pt")
    model = with_series(base, ctx, blob)  # the gnn model carries its franchise term
    assert blob["series"]["history"]["alpha"] != 0
    sess = session(export_dir / "model.onnx")
    everything = np.arange(ctx.n_anime)
    empty = run(sess, 0, [], everything)
    assert np.isfinite(empty).all() and ((empty >= 1) & (empty <= 10)).all()
    likes_s1 = run(sess, 0, [(1, 10.0), (4, 9.0)], everything)
    hates_s1 = run(sess, 0, [(1, 1.0), (4, 2.0)], everything)
    assert np.abs(likes_s1 - hates_s1).max() > 1e-3
    # Same numbers as the PyTorch forward, history anime included (scored leaving themselves out).
    hist = torch.zeros(len(everything), 64, dtype=torch.long)
    rating = torch.zeros(len(everything), 64)
    hist[:, :2] = torch.tensor([1, 4])
    rating[:, :2] = model.normalize(torch.tensor([10.0, 9.0]))
    want = model.predict(Batch(user=torch.zeros(len(everything), dtype=torch.long),
                               anime=torch.from_numpy(everything), hist_anime=hist, hist_rating=rating,
                               use_history=torch.ones(len(everything), dtype=torch.bool)))
    assert np.abs(likes_s1 - want.numpy()).max() <= 1e-4


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


def test_baseline_exports_without_users_and_fp16(model_dir, tmp_path_factory):
    baseline = tiny.trained(tmp_path_factory, "baseline")
    out = tmp_path_factory.mktemp("baseline_export") / "model"
    r = export_model(baseline, out, exporter="torchscript", user_table="drop", max_history=8)
    assert not r.user_table and r.parity.user_pairs == 0 and r.parity.history_pairs >= 1000
    assert r.parity.max_abs_diff <= 1e-4
    assert "user" not in json.loads((out / "model_mappings.json").read_text())
    assert not (out / "user_ratings.bin").exists()
    sess = session(out / "model.onnx")
    # Without a user table, a user index is ignored: the history decides.
    assert np.array_equal(run(sess, 3, [(2, 8.0)], [5, 6], H=8), run(sess, 0, [(2, 8.0)], [5, 6], H=8))

    half = export_model(model_dir, tmp_path_factory.mktemp("fp16") / "model", exporter="torchscript",
                        fp16_tables=True)
    meta = json.loads((half.output_dir / "onnx_model_metadata.json").read_text())
    assert meta["table_dtype"] == "float16" and meta["parity"]["tolerance"] == 1e-2
    assert half.parity.max_abs_diff <= 1e-2
