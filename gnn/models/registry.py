"""The one list of models: name -> module, one-line summary and benchmark role; and name -> (class, config).

:data:`MODELS` is the single source of model names: the CLI's ``--model`` choices and help,
the benchmark harness's model lists and the docs check read it. It imports no torch, so
``anime-gnn --help`` and the benchmark parent process stay light.

A model module registers its class with :func:`register`; :func:`build_model` turns a name
and a plain config dict (as stored in a checkpoint) back into a model. The two sides must
agree exactly: registering a name missing from :data:`MODELS` is a :class:`RegistryError`,
and so is a module that does not register the names :data:`MODELS` gives it; a module that
fails to import raises its own error. Nothing is skipped.

A new model: its module (with ``@register``), one :data:`MODELS` entry here, and its tests.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Callable

from gnn.errors import ModelConfigError

if TYPE_CHECKING:  # torch loads only when a model is built
    from gnn.models.base import ModelContext, RatingModel

KINDS = ("neural", "reference", "cold")


@dataclass(frozen=True)
class ModelInfo:
    module: str    # the module whose ``@register(name, ...)`` defines the model
    summary: str   # one line, for ``anime-gnn train --help`` and the docs
    kind: str      # "neural": exported to ONNX, trained with its defaults (not tuned by the benchmark);
    #                "reference": a classic reference the benchmark tunes and compares;
    #                "cold": a cold-item reference (benchmarks/cold_items.py), not in the default comparison

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"model kind {self.kind!r}: choose from {', '.join(KINDS)}")


# The order is the benchmark's (references first, then the neural models) and the CLI help's.
MODELS: dict[str, ModelInfo] = {
    "global_mean": ModelInfo("gnn.models.classic", "the training mean for every pair", "reference"),
    "most_popular": ModelInfo("gnn.models.implicit", "most-rated anime first (ranks only, no rating or RMSE)",
                              "reference"),
    "biases": ModelInfo("gnn.models.classic", "mean + user bias + anime bias", "reference"),
    "mf": ModelInfo("gnn.models.classic", "biased matrix factorization", "reference"),
    "item_knn": ModelInfo("gnn.models.item_knn", "item-based kNN on baseline residuals, closed form", "reference"),
    "ease": ModelInfo("gnn.models.implicit", "EASE item-item closed form (ranks only, no rating or RMSE)",
                      "reference"),
    "baseline": ModelInfo("gnn.models.baseline", "the older architecture (user ID, genre/tag pools, MLP)", "neural"),
    "gnn": ModelInfo("gnn.models.recommender", "the graph-enhanced model (the user is their ratings)", "neural"),
    "content_prior": ModelInfo("gnn.models.cold", "cold-item reference, biases shrunk toward a catalog-field "
                                                  "prior (scores never-rated anime too)", "cold"),
    "content_knn": ModelInfo("gnn.models.cold", "cold-item reference, content_prior plus the residuals of "
                                                "content-similar rated anime", "cold"),
}


class RegistryError(RuntimeError):
    """:data:`MODELS` and the ``@register`` calls disagree: a bug in the code, not a user mistake."""


_REGISTERED: dict[str, tuple[type[RatingModel], type]] = {}


def register(name: str, config_cls: type) -> Callable[[type[RatingModel]], type[RatingModel]]:
    """Class decorator: ``name`` (an entry of :data:`MODELS`) is this class, configured by ``config_cls``."""
    if name not in MODELS:
        raise RegistryError(f"model {name!r} is registered but missing from gnn.models.registry.MODELS")

    def wrap(cls: type[RatingModel]) -> type[RatingModel]:
        if MODELS[name].module != cls.__module__:
            raise RegistryError(f"model {name!r} is registered in {cls.__module__}, but MODELS says "
                                f"{MODELS[name].module}")
        cls.name = name
        _REGISTERED[name] = (cls, config_cls)
        return cls

    return wrap


def model_names(kind: str | None = None) -> tuple[str, ...]:
    """Every model name (of one ``kind``), in :data:`MODELS` order; imports nothing."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"model kind {kind!r}: choose from {', '.join(KINDS)}")
    return tuple(name for name, info in MODELS.items() if kind is None or info.kind == kind)


def _entry(name: str) -> tuple[type[RatingModel], type]:
    """``(class, config class)`` of ``name``, importing its module (an import error propagates)."""
    if name not in MODELS:
        raise ModelConfigError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    if name not in _REGISTERED:
        importlib.import_module(MODELS[name].module)
        if name not in _REGISTERED:
            raise RegistryError(f"{MODELS[name].module} does not register model {name!r} (MODELS says it does)")
    return _REGISTERED[name]


def model_class(name: str) -> type[RatingModel]:
    """The registered class of ``name`` (its flags, e.g. ``predicts_ratings``, without building it)."""
    return _entry(name)[0]


def make_config(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """The model's config dataclass with ``overrides`` applied.

    An unknown key, or a value the config's own checks refuse (its ``ValueError``), is a
    :class:`ModelConfigError` naming the model.
    """
    config_cls = _entry(name)[1]
    known = {f.name for f in fields(config_cls)}
    unknown = set(overrides or {}) - known
    if unknown:
        raise ModelConfigError(f"unknown option(s) for model {name!r}: {', '.join(sorted(unknown))}; "
                               f"it has {', '.join(sorted(known)) or 'none'}")
    try:
        return config_cls(**(overrides or {}))
    except ValueError as err:
        raise ModelConfigError(f"model {name!r}: {err}") from None


def build_model(name: str, ctx: ModelContext, config: Any = None) -> RatingModel:
    """Build a model from its name, the data context and a config (dataclass, dict or None)."""
    if config is None or isinstance(config, dict):
        config = make_config(name, config)
    return _entry(name)[0](ctx, config)


def stored_config(name: str, stored: dict[str, Any] | None) -> dict[str, Any]:
    """A checkpoint's model options, an option added after it was written set to the value the model had
    then (its config class's ``BEFORE_ADDED``), not to today's default."""
    return {**getattr(_entry(name)[1], "BEFORE_ADDED", {}), **(stored or {})}


def scoring_only(name: str) -> frozenset[str]:
    """Options of model ``name`` that change how a trained model scores and nothing of its training
    (its config class's ``SCORING_ONLY``): a checkpoint may be loaded with other values of them."""
    return frozenset(getattr(_entry(name)[1], "SCORING_ONLY", ()))


def train_defaults(name: str) -> dict[str, Any]:
    """The TrainConfig values model ``name`` trains best with, applied where the user gave none."""
    return dict(model_class(name).train_defaults)


def config_to_dict(config: Any) -> dict[str, Any]:
    return asdict(config)
