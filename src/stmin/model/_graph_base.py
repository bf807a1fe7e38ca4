"""What every whole-graph model shares: AnnData setup with an ``obsp`` graph, full-graph access."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from anndata import AnnData
from scvi import REGISTRY_KEYS
from scvi.data.fields import LayerField, ObsmField

from .._cluster import (
    ClusterMethod,
    as_categories,
    check_cluster_method,
    cluster_embedding,
    refine_labels,
)
from .._random import check_random_state
from .._settings import logger, settings
from .._validate import (
    check_adata,
    check_finite,
    check_n_clusters,
    check_refine,
    get_graph,
    get_layer,
    get_rep,
    get_spatial,
    where,
)
from ..nn import SparseGraph, normalize_adjacency
from ._base import ModelBase


class GraphModelBase(ModelBase):
    """Base class of the stmin models that train on a whole graph (spots or cells).

    Subclasses build ``self.module`` (holding its normalised graph as ``module.graph``) in
    ``__init__`` and may use :meth:`_graph` for the normalised adjacency, :meth:`_features` for
    the registered input matrix, :meth:`_evaluate` to run the trained module on the training data
    or on another AnnData, and :meth:`_domains` to cluster an embedding. Every step sees every
    node, so the rows reach the module in ``adata`` order, as the graph's nodes.
    """

    _graph_twice = False
    """Normalise the graph twice (see :func:`stmin.nn.normalize_adjacency`)."""

    _graph_norm = "symmetric"
    """``"symmetric"`` or ``"row"`` normalisation of the graph."""

    @classmethod
    def _register(
        cls,
        adata: AnnData,
        setup_method_args: dict,
        *,
        use_rep: str | None,
        layer: str | None,
        connectivity_key: str,
        extra_fields: list | None = None,
        **kwargs,
    ) -> None:
        """Validate ``adata`` and register the input matrix and the graph key.

        ``extra_fields`` are further scvi-tools fields (e.g. a batch column).
        """
        check_adata(adata)
        if use_rep is not None and layer is not None:
            raise ValueError("Pass either `use_rep` or `layer`, not both.")
        if use_rep is not None:
            get_rep(adata, use_rep)
            x_field = ObsmField(REGISTRY_KEYS.X_KEY, use_rep)
        else:
            x = get_layer(adata, layer)
            check_finite(x, where("adata", layer))
            x_field = LayerField(REGISTRY_KEYS.X_KEY, layer, is_count_data=False)
        graph = get_graph(adata, connectivity_key)
        if graph.shape != (adata.n_obs, adata.n_obs):
            raise ValueError(
                f"`adata.obsp[{connectivity_key!r}]` has shape {graph.shape}, expected "
                f"({adata.n_obs}, {adata.n_obs}). Rebuild it with `sm.pp.spatial_graph(adata)`."
            )
        cls._register_fields(adata, [x_field, *(extra_fields or [])], setup_method_args, **kwargs)

    def _check_batch_size(self, batch_size: int | None) -> None:
        if batch_size is not None:
            raise ValueError(
                f"{type(self).__name__} trains on the whole graph: pass `batch_size=None`."
            )

    def _features(self, adata: AnnData | None = None) -> torch.Tensor:
        """The registered input matrix of ``adata`` (default: the training data), dense float32."""
        adata = self._validate_anndata(adata)
        x = self.get_anndata_manager(adata, required=True).get_from_registry(REGISTRY_KEYS.X_KEY)
        x = x.toarray() if sp.issparse(x) else np.asarray(x)
        return torch.as_tensor(x, dtype=torch.float32)

    def _graph(self, adata: AnnData | None = None) -> SparseGraph:
        """The normalised graph of ``adata`` (default: the training data)."""
        adata = self.adata if adata is None else adata
        adj = get_graph(adata, self._setup_args["connectivity_key"])
        if adj.shape != (adata.n_obs, adata.n_obs):
            raise ValueError(
                f"`adata.obsp[{self._setup_args['connectivity_key']!r}]` has shape {adj.shape}, "
                f"expected ({adata.n_obs}, {adata.n_obs})."
            )
        return SparseGraph(normalize_adjacency(adj, twice=self._graph_twice, norm=self._graph_norm))

    @torch.no_grad()
    def _evaluate(self, adata: AnnData | None, fn: Callable) -> torch.Tensor:
        """``fn(module, x)`` in eval mode, with ``module.graph`` swapped for ``adata``'s graph.

        ``adata`` (default: the training data) must be set up like the training data.
        """
        module = self.module
        device = next(module.parameters()).device
        x = self._features(adata).to(device)
        own = adata is None or adata is self.adata
        graph = module.graph if own else self._graph(adata).to(device)
        trained_graph, module.graph = module.graph, graph
        was_training = module.training
        module.eval()
        try:
            with settings.threads():
                return fn(module, x)
        finally:
            module.graph = trained_graph
            module.train(was_training)

    def _domains(
        self,
        z: np.ndarray,
        adata: AnnData,
        n_clusters: int,
        *,
        method: ClusterMethod,
        refine: int | None,
        random_state: int,
        groups: np.ndarray | None = None,
    ) -> pd.Categorical:
        """Cluster ``z`` and optionally refine the labels spatially (within ``groups``)."""
        check_cluster_method(method, "cluster_method")
        n_clusters = check_n_clusters(n_clusters, adata.n_obs)
        refine = check_refine(
            refine, adata.n_obs if groups is None else pd.Series(groups).value_counts().min()
        )
        with settings.threads():
            labels = cluster_embedding(
                z, n_clusters, method=method, random_state=check_random_state(random_state) or 0
            )
        if refine:
            coords = get_spatial(adata, self._setup_args["spatial_key"])
            labels = refine_labels(labels, coords, refine, groups=groups)
        return as_categories(labels)

    @staticmethod
    def _warn_if_counts(adata: AnnData, use_rep: str | None, layer: str | None) -> None:
        if use_rep is not None:
            return
        x = get_layer(adata, layer)
        values = x.data if sp.issparse(x) else np.asarray(x)
        if values.size and values.min() >= 0 and np.all(values == np.round(values)):
            logger.warning(
                "The model input looks like raw counts; graph models expect a normalised "
                "representation (e.g. `sm.pp.stmgac_preprocess(adata)` then "
                "`use_rep='X_stmgac_input'`)."
            )
