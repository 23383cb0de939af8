"""Name -> (model class, config dataclass), so a checkpoint can rebuild its own model.

A model module registers itself with :func:`register`; :func:`build_model`
turns a name and a plain config dict (as stored in a checkpoint) back into a model.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, fields
from typing import Any, Callable

from gnn.models.base import ModelContext, RatingModel

_MODELS: dict[str, tuple[type[RatingModel], type]] = {}

# Modules that define models; imported lazily so that importing the registry stays cheap.
_MODULES = ("gnn.models.baseline", "gnn.models.recommender", "gnn.models.classic", "gnn.models.item_knn",
            "gnn.models.implicit", "gnn.models.cold")


def register(name: str, config_cls: type) -> Callable[[type[RatingModel]], type[RatingModel]]:
    def wrap(cls: type[RatingModel]) -> type[RatingModel]:
        cls.name = name
        _MODELS[name] = (cls, config_cls)
        return cls

    return wrap


def _load_all() -> None:
    for module in _MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:  # a real import error inside an existing module
                raise


def model_names() -> list[str]:
    _load_all()
    return sorted(_MODELS)


def model_class(name: str) -> type[RatingModel]:
    """The registered class of ``name`` (its flags, e.g. ``predicts_ratings``, without building it)."""
    _load_all()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(sorted(_MODELS))}")
    return _MODELS[name][0]


def make_config(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """The model's config dataclass with ``overrides`` applied (unknown keys are an error)."""
    _load_all()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(sorted(_MODELS))}")
    config_cls = _MODELS[name][1]
    known = {f.name for f in fields(config_cls)}
    unknown = set(overrides or {}) - known
    if unknown:
        raise KeyError(f"unknown option(s) for model {name!r}: {', '.join(sorted(unknown))}")
    return config_cls(**(overrides or {}))


def build_model(name: str, ctx: ModelContext, config: Any = None) -> RatingModel:
    """Build a model from its name, the data context and a config (dataclass, dict or None)."""
    if config is None or isinstance(config, dict):
        config = make_config(name, config)
    cls = _MODELS[name][0]
    return cls(ctx, config)


def train_defaults(name: str) -> dict[str, Any]:
    """The TrainConfig values model ``name`` trains best with, applied where the user gave none."""
    _load_all()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(sorted(_MODELS))}")
    return dict(_MODELS[name][0].train_defaults)


def config_to_dict(config: Any) -> dict[str, Any]:
    return asdict(config)
