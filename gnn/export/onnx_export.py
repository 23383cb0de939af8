"""``export_model``: trained checkpoint -> verified, versioned ONNX export folder.

Files of an export (all formats in README "Export and recommend" and in the modules named):

* ``model.onnx`` (opset 18): :class:`gnn.export.scorer.PrecomputedScorer`, no message passing;
* ``onnx_model_metadata.json``: I/O contract, scale, version, training fingerprint and metrics, parity;
* ``model_mappings.json``, ``anime_display.json``, ``user_ratings.bin``: :mod:`gnn.export.display`;
* ``item_embeddings.bin``: float32 little-endian ``[n_anime, D]``, L2-normalized
  (:func:`gnn.export.tables.item_embeddings`), row 0 zeros; cosine = dot product.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import torch

from gnn.errors import InputError
from gnn.export.deploy import deploy, new_version, staging
from gnn.export.display import read_catalog_side, user_ratings, write_binary, write_display_files
from gnn.export.metadata import (OPSET, OUTPUT_NAMES, embeddings_section, file_table,
                                 header, io_contract, sha256, training_section, user_ratings_section)
from gnn.export.parity import ParityReport, check_parity, single_thread
from gnn.export.scorer import PrecomputedScorer
from gnn.export.tables import ExportTables, fold_model, item_embeddings
from gnn.io import read_json_input, write_json
from gnn.models.base import ModelContext
from gnn.models.concat_head import ConcatHeadModel
from gnn.models.recommender import GNNRecommender
from gnn.export.gnn_export import export_gnn

# model.onnx budget for the browser; `user_table="auto"` drops the user table to stay under it.
SIZE_BUDGET = 10_000_000
USER_TABLE_CHOICES = ("auto", "keep", "drop")


@dataclass(frozen=True)
class ExportResult:
    output_dir: Path
    version: str
    previous_version: str | None
    model_bytes: int            # model.onnx
    total_bytes: int            # every file of the export
    parity: ParityReport
    user_table: bool
    table_dtype: str
    exporter: str
    seconds: float


def estimated_bytes(tables: ExportTables, table_dtype: torch.dtype) -> int:
    """model.onnx size, near enough: constant tables in ``table_dtype``, everything else float32."""
    item = torch.tensor([], dtype=table_dtype).element_size()
    big = sum(t.numel() for t in (tables.item_head, tables.history_table, tables.user_table)) * item
    small = tables.user_proj.numel() * 4 + sum(p.numel() * 4 for m in (tables.rest, tables.history)
                                               for p in (*m.parameters(), *m.buffers()))
    return big + small + 64_000  # graph and initializer overhead


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def example_inputs(max_history: int, with_user: bool = True) -> dict[str, torch.Tensor]:
    """The ONNX inputs by name, with example values (the batch dimension of ``anime`` is dynamic)."""
    H = max_history
    batch = 5 if H != 5 else 6  # a batch size equal to no other dim, so nothing gets unified with it
    inputs = {"user": torch.zeros(1, dtype=torch.long)} if with_user else {}
    return {**inputs, "hist_anime": torch.zeros(1, H, dtype=torch.long), "hist_rating": torch.zeros(1, H),
            "anime": torch.arange(1, batch + 1)}


def _optimize_small_constants(path: Path, limit: int = 1024) -> None:
    """The exporter's graph optimizations, folding only constants below ``limit`` elements: scalar casts
    are folded (ONNX Runtime Web warns about unfolded CastLike nodes) while a cast of a stored table
    stays a cast (so the table stays int8/float16 in the file)."""
    import onnx
    import onnxscript.optimizer

    model = onnxscript.optimizer.optimize(onnx.load(str(path)), input_size_limit=limit, output_size_limit=limit)
    onnx.save(model, str(path))


def write_onnx(module: torch.nn.Module, path: Path, max_history: int, exporter: str = "dynamo",
               inputs: dict[str, torch.Tensor] | None = None, outputs: list[str] | None = None,
               fold_constants: bool = True, dynamic: dict[str, dict[int, str]] | None = None) -> str:
    """Export ``module`` to ``path``; returns the exporter actually used.

    ``inputs`` (name -> example, in the module's argument order; default: the four inputs of the
    precomputed scorer) and ``outputs`` (names): every output has the batch size of ``anime``. The
    dynamo exporter (``torch.export`` + onnxscript) is the default; if it fails the TorchScript
    exporter (``dynamo=False``, same opset) is used and the returned name says why.
    ``fold_constants=False`` keeps casts of stored tables in the graph (int8 and float16 tables stay
    small in the file; ONNX Runtime folds them when it loads the model). ``dynamic``: input name ->
    ``{axis: dimension name}`` of the sizes left free (default: the batch of ``anime``); inputs that
    name the same dimension must agree in size.
    """
    inputs = inputs or example_inputs(max_history)
    outputs = outputs or OUTPUT_NAMES
    dynamic = dynamic or {"anime": {0: "batch"}}
    dims = {name: torch.export.Dim(name) for axes in dynamic.values() for name in axes.values()}
    args = tuple(inputs.values())
    common = dict(opset_version=OPSET, input_names=list(inputs), output_names=outputs)
    module.eval()
    if exporter == "dynamo":
        try:
            # The dynamo exporter prints progress and logs torchvision notes: keep the CLI output clean.
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), _quiet("torch.onnx"):
                warnings.simplefilter("ignore")
                torch.onnx.export(module, args, str(path), dynamo=True, external_data=False, verbose=False,
                                  optimize=fold_constants,
                                  dynamic_shapes={k: ({axis: dims[name] for axis, name in dynamic[k].items()}
                                                      if k in dynamic else None) for k in inputs}, **common)
                if not fold_constants:
                    _optimize_small_constants(path)
            return "dynamo"
        except Exception as err:  # noqa: BLE001 - any exporter failure: fall back, and say so
            reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:200]
            exporter = f"torchscript (dynamo failed: {reason})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), dynamo=False, do_constant_folding=fold_constants,
                          dynamic_axes={**dynamic, **{o: {0: "batch"} for o in outputs}}, **common)
    return exporter


def _load(model_dir: Path, scoring: dict | None = None) -> tuple[ConcatHeadModel | GNNRecommender, ModelContext, dict]:
    from gnn.train.checkpoint import load_model  # heavy (torch_geometric): only when exporting

    path = model_dir if model_dir.is_file() else model_dir / "best_model.pt"
    if not path.exists():
        raise InputError(str(model_dir), "no best_model.pt here; run `anime-gnn train` first")
    model, ctx, _ = load_model(path, scoring)
    meta_path = path.parent / "model_metadata.json"
    meta = read_json_input(meta_path) if meta_path.exists() else {}
    if not isinstance(meta, dict):
        raise InputError(str(meta_path), "not a JSON object")
    if not isinstance(model, (ConcatHeadModel, GNNRecommender)):
        raise InputError(str(path), f"model {model.name!r} does not export to ONNX (gnn and baseline do)")
    return model, ctx, meta


def export_model(model_dir: str | Path, output_dir: str | Path, max_history: int = 64,
                 fp16_tables: bool = False, user_table: str = "auto", data_dir: str | Path | None = None,
                 embedding_dim: int = 32, exporter: str = "dynamo", keep_versions: int = 3,
                 parity_seed: int = 0, log: Callable[[str], None] | None = None,
                 scoring: dict | None = None) -> ExportResult:
    """Export the model in ``model_dir`` to ``output_dir``, verified by a parity check, swapped in atomically.

    ``user_table``: ``keep`` exports the user ID embeddings (the CLI's ``--user-id``),
    ``drop`` leaves them out (new users only, smaller), ``auto`` keeps them unless
    model.onnx would exceed :data:`SIZE_BUDGET`. ``fp16_tables`` stores the three
    big tables in float16 (cast to float32 after the gather; parity tolerance 1e-2).
    ``scoring``: other values of the model's scoring-only options (:func:`gnn.train.checkpoint.load_model`).
    Raises :class:`ExportError` when parity fails; the previous export is then untouched.
    """
    say = log or (lambda _msg: None)
    start = time.perf_counter()
    if user_table not in USER_TABLE_CHOICES:
        raise ValueError(f"user_table must be one of {USER_TABLE_CHOICES}")
    if max_history < 1:
        raise ValueError("max_history must be at least 1")
    model_dir, output_dir = Path(model_dir), Path(output_dir)
    model, ctx, model_meta = _load(model_dir, scoring)
    data_dir = Path(data_dir or model_meta.get("data_dir") or "data/processed")
    if isinstance(model, GNNRecommender):  # its own scorer: history in, (score, rating) out
        version, previous, parity, used = export_gnn(model, ctx, model_meta, data_dir, output_dir, exporter,
                                                     embedding_dim, keep_versions, parity_seed, write_onnx, say)
        return _result(output_dir, version, previous, parity, used, start, user_table=False,
                       table_dtype="int8 vectors, uint8-coded weights")
    version, previous, parity, used, keep_users = _export_concat_head(
        model, ctx, model_meta, data_dir, output_dir, max_history=max_history, fp16_tables=fp16_tables,
        user_table=user_table, embedding_dim=embedding_dim, exporter=exporter, keep_versions=keep_versions,
        parity_seed=parity_seed, say=say)
    return _result(output_dir, version, previous, parity, used, start, user_table=keep_users,
                   table_dtype="float16" if fp16_tables else "float32")


def _result(output_dir: Path, version: str, previous: str | None, parity: ParityReport, exporter: str,
            start: float, user_table: bool, table_dtype: str) -> ExportResult:
    """What a deployed export holds: the sizes of the files now in ``output_dir``."""
    sizes = {p.name: p.stat().st_size for p in output_dir.iterdir() if p.is_file()}
    return ExportResult(output_dir=output_dir, version=version, previous_version=previous,
                        model_bytes=sizes["model.onnx"], total_bytes=sum(sizes.values()), parity=parity,
                        user_table=user_table, table_dtype=table_dtype, exporter=exporter,
                        seconds=time.perf_counter() - start)


def _concat_head_tables(model: ConcatHeadModel, table_dtype: torch.dtype, user_table: str,
                      say: Callable[[str], None]) -> tuple[ExportTables, bool]:
    """The folded tables, and whether they keep the user table (``keep``, ``drop``, or ``auto``: within
    :data:`SIZE_BUDGET`); a dropped table is one zero row."""
    with single_thread():
        tables = fold_model(model, keep_users=True)
    keep_users = user_table == "keep" or (user_table == "auto"
                                          and estimated_bytes(tables, table_dtype) <= SIZE_BUDGET)
    if not keep_users:
        tables = replace(tables, user_table=torch.zeros(1, tables.user_table.shape[1]))
        if user_table == "auto":
            say(f"user table left out: model.onnx would exceed {SIZE_BUDGET / 1e6:g} MB with it "
                "(new users only; use --user-table keep or --fp16-tables to keep known users)")
    return tables, keep_users


def _export_concat_head(model: ConcatHeadModel, ctx: ModelContext, model_meta: dict, data_dir: Path, output_dir: Path,
                      *, max_history: int, fp16_tables: bool, user_table: str, embedding_dim: int, exporter: str,
                      keep_versions: int, parity_seed: int, say: Callable[[str], None]
                      ) -> tuple[str, str | None, ParityReport, str, bool]:
    """The baseline's export (:class:`PrecomputedScorer`): ``(version, previous, parity, exporter, user table kept)``."""
    anime_meta, mappings, data_stats = read_catalog_side(data_dir, ctx.n_anime, model_meta.get("data_fingerprint"))
    table_dtype = torch.float16 if fp16_tables else torch.float32
    tables, keep_users = _concat_head_tables(model, table_dtype, user_table, say)
    scorer = PrecomputedScorer(tables, ctx.rating_mean, ctx.rating_std, ctx.rating_low, ctx.rating_high,
                               table_dtype).eval()
    with staging(output_dir) as tmp:
        used = write_onnx(scorer, tmp / "model.onnx", max_history, exporter)
        write_display_files(tmp, anime_meta, mappings, keep_users)
        emb, kept_variance = item_embeddings(tables.item_head, embedding_dim)
        write_binary(tmp / "item_embeddings.bin", emb.numpy().astype("<f4"))
        ratings = user_ratings(data_dir, ctx.n_users) if keep_users else None
        if ratings is not None:
            write_binary(tmp / "user_ratings.bin", *ratings)
        say("checking parity with PyTorch (ONNX Runtime, CPU)")
        parity = check_parity(model, tmp / "model.onnx", ctx.n_anime, max_history, keep_users,
                              tolerance=1e-2 if fp16_tables else 1e-4, seed=parity_seed)
        version = new_version(sha256(tmp / "model.onnx"))
        write_json(tmp / "onnx_model_metadata.json", {
            **header(model.name, version, used),
            **_concat_head_contract(ctx, tables, max_history, fp16_tables, keep_users),
            "item_embeddings": embeddings_section(tuple(emb.shape), "item_head", kept_variance),
            "user_ratings": None if ratings is None else user_ratings_section(ctx.n_users, int(ratings[1].shape[0])),
            "training": training_section(model_meta, data_stats, model.name, asdict(model.config)),
            "parity": parity.as_dict(),
            "files": file_table(tmp),
        })
        previous = deploy(tmp, output_dir, keep=keep_versions)
    return version, previous, parity, used, keep_users


def _concat_head_contract(ctx: ModelContext, tables: ExportTables, max_history: int, fp16_tables: bool,
                        keep_users: bool) -> dict:
    """The metadata's I/O contract and table description of a :class:`PrecomputedScorer` export."""
    n_user_rows = int(tables.user_table.shape[0])
    scale = {"low": ctx.rating_low, "high": ctx.rating_high}
    return {
        **io_contract(max_history, ctx.n_anime, n_user_rows, scale, ctx.rating_mean, ctx.rating_std),
        "n_anime": ctx.n_anime, "n_user_rows": n_user_rows,
        "user_table": "kept" if keep_users else "omitted (every request is scored from its history)",
        "table_dtype": "float16" if fp16_tables else "float32",
        "tables": {"item_head": list(tables.item_head.shape), "history_table": list(tables.history_table.shape),
                   "user_table": list(tables.user_table.shape),
                   "note": "first head Linear split as W_u u + W_i i + b; the item part and the eval-mode "
                           "BatchNorm folded into item_head; every later Linear+BatchNorm folded"},
    }
