"""The model registry is the one list of models: exact names, loud failures, and the places that read it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gnn.errors import ModelConfigError, UsageError
from gnn.models import registry
from gnn.models.registry import MODELS, ModelInfo, RegistryError

REPO = Path(__file__).resolve().parents[2]
ALL = {"global_mean", "most_popular", "biases", "mf", "item_knn", "ease", "baseline", "gnn", "content_prior",
       "content_knn"}


def test_the_table_names_exactly_the_models_and_every_module_registers_its_own():
    assert set(registry.model_names()) == ALL
    for name in ALL:
        cls = registry.model_class(name)
        assert cls.name == name and cls.__module__ == MODELS[name].module
    assert set(registry._REGISTERED) == ALL  # nothing registered outside the table


def test_kinds_split_the_table():
    assert registry.model_names("neural") == ("baseline", "gnn")
    assert set(registry.model_names("cold")) == {"content_prior", "content_knn"}
    assert set(registry.model_names("reference")) == ALL - {"baseline", "gnn", "content_prior", "content_knn"}
    with pytest.raises(ValueError, match="model kind 'deep'"):
        registry.model_names("deep")
    with pytest.raises(ValueError, match="model kind 'deep'"):
        ModelInfo("gnn.models.x", "x", "deep")


def test_summaries_say_which_models_rank_only():
    for name in ALL:
        ranks_only = "ranks only" in MODELS[name].summary
        assert ranks_only == (not registry.model_class(name).predicts_ratings), name


def test_an_unknown_model_or_option_is_a_usage_error_naming_it():
    with pytest.raises(ModelConfigError, match=r"unknown model 'gnnn'; choose from global_mean, most_popular"):
        registry.model_class("gnnn")
    with pytest.raises(ModelConfigError, match="unknown model 'gnnn'"):
        registry.build_model("gnnn", None, registry.make_config("gnn"))  # a dataclass config: still checked
    with pytest.raises(ModelConfigError, match=r"unknown option\(s\) for model 'ease': alpha, beta; it has reg$"):
        registry.make_config("ease", {"beta": 1, "alpha": 2})
    with pytest.raises(ModelConfigError, match="model 'ease': ease reg must be a positive number, got -1"):
        registry.make_config("ease", {"reg": -1})
    assert issubclass(ModelConfigError, UsageError) and not issubclass(ModelConfigError, KeyError)


def test_a_model_module_that_fails_to_import_raises(monkeypatch):
    monkeypatch.setitem(MODELS, "typo", ModelInfo("gnn.models.no_such_module", "x", "reference"))
    with pytest.raises(ModuleNotFoundError, match="gnn.models.no_such_module"):
        registry.model_class("typo")


def test_an_import_error_inside_a_model_module_propagates(monkeypatch, tmp_path):
    (tmp_path / "broken_model_mod.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(MODELS, "broken", ModelInfo("broken_model_mod", "x", "reference"))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
        registry.model_class("broken")


def test_the_table_and_the_register_calls_must_agree(monkeypatch, tmp_path):
    with pytest.raises(RegistryError, match="'mystery' is registered but missing from"):
        registry.register("mystery", object)
    monkeypatch.setitem(MODELS, "mystery", ModelInfo("gnn.models.classic", "x", "reference"))
    with pytest.raises(RegistryError, match="gnn.models.classic does not register model 'mystery'"):
        registry.model_class("mystery")
    wrap = registry.register("mystery", object)
    with pytest.raises(RegistryError, match="registered in tests.models.test_registry, but MODELS says "
                                            "gnn.models.classic"):
        wrap(type("Mystery", (), {"__module__": "tests.models.test_registry"}))
    assert "mystery" not in registry._REGISTERED


def test_reading_the_table_imports_no_torch():
    code = ("import sys; import cli.main, benchmarks.harness; from gnn.models.registry import model_names; "
            "model_names(); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_the_cli_and_the_benchmarks_offer_the_table():
    from benchmarks.harness import DEFAULT_MODELS, NEURAL
    from cli.train import train

    option = next(p for p in train.params if p.name == "model_name")
    assert tuple(option.type.choices) == registry.model_names()
    assert all(f"{name}: {info.summary}" in option.help for name, info in MODELS.items())
    assert NEURAL == ("baseline", "gnn")
    assert DEFAULT_MODELS == ("global_mean", "most_popular", "biases", "mf", "item_knn", "ease", "baseline", "gnn")


def test_the_docs_name_every_model():
    """README.md documents every registered model; benchmarks/README.md every model the benchmark runs."""
    from benchmarks.harness import DEFAULT_MODELS

    for doc, names in (("README.md", registry.model_names()), ("benchmarks/README.md", DEFAULT_MODELS)):
        text = (REPO / doc).read_text(encoding="utf-8")
        missing = [n for n in names if f"`{n}`" not in text]
        assert not missing, f"{doc} does not mention {missing}"


@pytest.mark.parametrize("change, message", [
    ({"model_name": "nope"}, "cannot rebuild its model (ModelConfigError: unknown model 'nope'; choose from"),
    ({"model_config": {"reg": 1.0, "gone": 2}}, "unknown option(s) for model 'biases': gone"),
])
def test_a_checkpoint_of_an_unknown_model_names_the_file(ctx, change, message):
    from gnn.errors import InputError
    from gnn.train.checkpoint import model_blob, model_from_blob

    blob = {**model_blob(registry.build_model("biases", ctx), ctx), **change}
    with pytest.raises(InputError) as err:
        model_from_blob(blob, "run/best_model.pt")
    assert str(err.value).startswith("run/best_model.pt: ") and message in str(err.value)


def test_a_checkpoint_written_before_an_option_existed_is_read_with_the_value_it_was_made_with(ctx):
    """corated_scale is on by default now; a GNN checkpoint whose config has no such key was made without it."""
    from gnn.train.checkpoint import model_blob, model_from_blob

    old = registry.build_model("gnn", ctx, {"corated_scale": False})
    blob = model_blob(old, ctx)
    del blob["model_config"]["corated_scale"]
    assert registry.make_config("gnn").corated_scale   # today's default differs
    model, _ = model_from_blob(blob, "run/best_model.pt")
    assert model.config.corated_scale is False and model.watch.co_scale is None
    assert registry.stored_config("gnn", {"corated_scale": True})["corated_scale"] is True   # a stored value wins
    assert registry.stored_config("biases", {"reg": 1.0}) == {"reg": 1.0}   # models without such options
    # The baseline's row-sparse user table (issue 18): an older baseline checkpoint trained it dense.
    assert registry.make_config("baseline").sparse_user_grad
    assert registry.stored_config("baseline", {"user_dim": 64})["sparse_user_grad"] is False
