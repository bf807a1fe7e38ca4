"""What every whole-graph model shares: AnnData setup with an ``obsp`` graph, full-graph access."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from anndata import AnnData
from scvi import REGISTRY_KEYS
from scvi.data import AnnDataManager
from scvi.data.fields import LayerField, NumericalObsField, ObsmField
from scvi.model.base import BaseModelClass

from .._settings import logger
from .._validate import check_adata, check_finite, get_graph, get_layer, get_rep
from ..nn import SparseGraph, normalize_adjacency
from ..train import FullGraphTrainingMixin

INDICES_COLUMN = "_indices"


class GraphModelBase(FullGraphTrainingMixin, BaseModelClass):
    """Base class of the stmin models that train on a whole spatial graph.

    Subclasses build ``self.module`` in ``__init__`` and may use :meth:`_graph` for the
    normalised adjacency and :meth:`_features` for the registered input matrix.
    """

    @classmethod
    def _register(
        cls,
        adata: AnnData,
        setup_method_args: dict,
        *,
        use_rep: str | None,
        layer: str | None,
        connectivity_key: str,
        **kwargs,
    ) -> None:
        """Validate ``adata`` and register the input matrix, node indices and the graph key."""
        check_adata(adata)
        if use_rep is not None and layer is not None:
            raise ValueError("Pass either `use_rep` or `layer`, not both.")
        if use_rep is not None:
            get_rep(adata, use_rep)
            x_field = ObsmField(REGISTRY_KEYS.X_KEY, use_rep)
        else:
            check_finite(
                get_layer(adata, layer),
                "`adata.X`" if layer is None else f"`adata.layers[{layer!r}]`",
            )
            x_field = LayerField(REGISTRY_KEYS.X_KEY, layer, is_count_data=False)
        graph = get_graph(adata, connectivity_key)
        if graph.shape != (adata.n_obs, adata.n_obs):
            raise ValueError(
                f"`adata.obsp[{connectivity_key!r}]` has shape {graph.shape}, expected "
                f"({adata.n_obs}, {adata.n_obs}). Rebuild it with `sm.pp.spatial_graph(adata)`."
            )
        if graph.nnz == 0:
            raise ValueError(
                f"`adata.obsp[{connectivity_key!r}]` has no edges. Rebuild it with "
                "`sm.pp.spatial_graph(adata)`."
            )
        adata.obs[INDICES_COLUMN] = np.arange(adata.n_obs)
        fields = [x_field, NumericalObsField(REGISTRY_KEYS.INDICES_KEY, INDICES_COLUMN)]
        manager = AnnDataManager(fields=fields, setup_method_args=setup_method_args)
        manager.register_fields(adata, **kwargs)
        cls.register_manager(manager)

    @property
    def _setup_args(self) -> dict:
        return self.adata_manager.registry["setup_args"]

    def _features(self, adata: AnnData | None = None) -> torch.Tensor:
        """The registered input matrix of ``adata`` (default: the training data), dense float32."""
        adata = self._validate_anndata(adata)
        x = self.get_anndata_manager(adata, required=True).get_from_registry(REGISTRY_KEYS.X_KEY)
        x = x.toarray() if sp.issparse(x) else np.asarray(x)
        return torch.as_tensor(x, dtype=torch.float32)

    def _graph(self, adata: AnnData | None = None, *, twice: bool = False) -> SparseGraph:
        """The normalised spatial graph of ``adata`` (default: the training data)."""
        adata = self.adata if adata is None else adata
        adj = get_graph(adata, self._setup_args["connectivity_key"])
        return SparseGraph(normalize_adjacency(adj, twice=twice))

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
