"""STMGAC model class (scvi-tools style)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from anndata import AnnData

from ..._cluster import ClusterMethod
from ..._constants import CONNECTIVITIES_KEY, SPATIAL_KEY, STMGAC_INPUT_KEY
from ..._docs import d
from ..._validate import (
    check_adata,
    check_choice,
    check_int,
    check_masking,
    check_n_clusters,
    check_number,
)
from .._graph_base import GraphModelBase
from ._module import STMGACModule


class STMGAC(GraphModelBase):
    """Masked graph autoencoder with contrastive augmentation for spatial domains.

    Fang, Zhu, Xie & Min, "Masked Graph Autoencoders with Contrastive Augmentation for Spatially
    Resolved Transcriptomics Data", IEEE BIBM 2024 (arXiv:2408.06377).

    Parameters
    ----------
    adata
        AnnData registered with :meth:`setup_anndata`.
    n_clusters
        Number of domains. Anchor mining clusters the teacher embedding into this many groups
        during training, and it is the default of :meth:`get_labels`.
    n_latent
        Embedding size (16).
    n_hidden
        Dense encoder layers (64, 32).
    n_gcn_hidden
        Hidden graph layer (64).
    n_project
        Hidden size of the projector (32).
    dropout
        Dropout rate (0.2).
    mask_rate
        Fraction of nodes masked per step (0.7 for DLPFC; 0.5 for the other data of the paper).
    replace_rate
        Fraction of masked nodes given random nodes' features instead of the mask token (0.1).
    momentum
        EMA momentum of the teacher encoder (0.998).
    sce_t
        Exponent of the scaled cosine reconstruction error (2).
    top_k
        Latent neighbours considered in anchor mining (30).
    t_step
        Anchors are mined again every ``t_step`` epochs (50).
    n_kmeans, kmeans_iter
        k-means runs (5) and their iterations (20) in anchor mining.
    loss_weights
        Weights of the reconstruction, latent-matching and triplet losses ((0.5, 0.1, 0.1) as
        the DLPFC configuration; the breast-cancer one is (1, 0.1, 1)).
    gcn_norm
        ``"single"``: one symmetric GCN normalisation of the graph. ``"double"``: normalise the
        normalised graph again, as the released code does implicitly (see Notes).

    Notes
    -----
    Differences from the released code, all deliberate and tested:

    - The graph convolution is a sparse ``Â X W`` in PyTorch rather than PyG's ``GCNConv``;
      ``gcn_norm="single"`` (default) normalises once, whereas the released code hands an already
      normalised matrix to ``GCNConv``, which normalises it again (``gcn_norm="double"``).
    - k-means in anchor mining is scikit-learn's (k-means++ start, ``n_init=1``, 20 iterations,
      seeds 1234…) instead of faiss; domains are found with a tied-covariance Gaussian mixture
      (the analogue of mclust's EEE) instead of R's mclust.
    - The teacher's EMA update runs after each optimiser step (the original updates it in the
      forward pass, one step earlier); with momentum 0.998 the difference is immaterial.

    Examples
    --------
    >>> sm.pp.spatial_graph(adata, n_neighs=12)
    >>> sm.pp.stmgac_preprocess(adata)
    >>> sm.model.STMGAC.setup_anndata(adata, use_rep="X_stmgac_input")
    >>> model = sm.model.STMGAC(adata, n_clusters=7)
    >>> model.train(max_epochs=500)
    >>> adata.obsm["X_stmgac"] = model.get_latent_representation()
    >>> adata.obs["stmgac"] = model.get_labels()
    """

    def __init__(
        self,
        adata: AnnData,
        n_clusters: int,
        *,
        n_latent: int = 16,
        n_hidden: Sequence[int] = (64, 32),
        n_gcn_hidden: int = 64,
        n_project: int = 32,
        dropout: float = 0.2,
        mask_rate: float = 0.7,
        replace_rate: float = 0.1,
        momentum: float = 0.998,
        sce_t: float = 2.0,
        top_k: int = 30,
        t_step: int = 50,
        n_kmeans: int = 5,
        kmeans_iter: int = 20,
        loss_weights: Sequence[float] = (0.5, 0.1, 0.1),
        gcn_norm: Literal["single", "double"] = "single",
    ):
        super().__init__(adata)
        check_n_clusters(n_clusters, adata.n_obs)
        check_masking(mask_rate, replace_rate, loss_weights, 3)
        check_choice(gcn_norm, "gcn_norm", ("single", "double"))
        for name, value in (
            ("n_latent", n_latent),
            ("n_gcn_hidden", n_gcn_hidden),
            ("n_project", n_project),
            ("top_k", top_k),
            ("t_step", t_step),
            ("n_kmeans", n_kmeans),
            ("kmeans_iter", kmeans_iter),
        ):
            check_int(value, name, min_value=1)
        if isinstance(n_hidden, str) or not hasattr(n_hidden, "__len__") or not len(n_hidden):
            raise ValueError(f"`n_hidden` must be a non-empty list of widths (got {n_hidden!r}).")
        for i, width in enumerate(n_hidden):
            check_int(width, f"n_hidden[{i}]", min_value=1)
        check_number(dropout, "dropout", min_value=0, max_value=1, max_inclusive=False)
        check_number(momentum, "momentum", min_value=0, max_value=1)
        check_number(sce_t, "sce_t", min_value=0, min_inclusive=False)
        self._graph_twice = gcn_norm == "double"
        n_input = self._features().shape[1]
        self.module = STMGACModule(
            n_input,
            self._graph(),
            n_clusters,
            n_hidden=tuple(n_hidden),
            n_gcn_hidden=n_gcn_hidden,
            n_latent=n_latent,
            n_project=n_project,
            dropout=dropout,
            mask_rate=mask_rate,
            replace_rate=replace_rate,
            momentum=momentum,
            sce_t=sce_t,
            top_k=top_k,
            t_step=t_step,
            n_kmeans=n_kmeans,
            kmeans_iter=kmeans_iter,
            loss_weights=tuple(loss_weights),
        )
        self._model_summary_string = (
            f"STMGAC: {n_input} inputs → {n_latent}-d embedding, {n_clusters} domains, "
            f"mask rate {mask_rate}, {gcn_norm} GCN normalisation"
        )
        self.init_params_ = self._get_init_params(locals())

    @classmethod
    @d.dedent
    def setup_anndata(
        cls,
        adata: AnnData,
        use_rep: str | None = STMGAC_INPUT_KEY,
        layer: str | None = None,
        connectivity_key: str = CONNECTIVITIES_KEY,
        spatial_key: str = SPATIAL_KEY,
        **kwargs,
    ) -> None:
        """Register the model input and the spatial graph of ``adata``.

        Parameters
        ----------
        adata
            AnnData with a spatial graph in ``obsp[connectivity_key]``.
        %(setup_use_rep)s
            The default is the output of :func:`stmin.pp.stmgac_preprocess`.
        %(setup_layer)s
        %(connectivity_key)s
        %(spatial_key)s
            Used by the spatial refinement of :meth:`get_labels`.
        """
        setup_method_args = cls._get_setup_method_args(**locals())
        check_adata(adata)
        if use_rep == STMGAC_INPUT_KEY and use_rep not in adata.obsm:
            raise KeyError(
                f"`adata.obsm[{STMGAC_INPUT_KEY!r}]` not found. Run "
                "`sm.pp.stmgac_preprocess(adata)` first, or pass `use_rep=` naming another "
                "representation."
            )
        cls._warn_if_counts(adata, use_rep, layer)
        cls._register(
            adata,
            setup_method_args,
            use_rep=use_rep,
            layer=layer,
            connectivity_key=connectivity_key,
            **kwargs,
        )

    def train(
        self,
        max_epochs: int = 500,
        *,
        lr: float = 1e-3,
        weight_decay: float = 1e-3,
        gradient_clip_val: float | None = 5.0,
        **kwargs,
    ):
        """Train on the whole graph with the paper's optimiser settings.

        Adam (``lr`` 1e-3, ``weight_decay`` 1e-3), gradient norm clipped at 5, 500 epochs, no
        early stopping. Other arguments are those of :meth:`stmin.train.TrainingMixin.train`
        (``accelerator``, ``devices``, ``early_stopping``, ``enable_progress_bar`` …).
        """
        return super().train(
            max_epochs,
            lr=lr,
            weight_decay=weight_decay,
            gradient_clip_val=gradient_clip_val,
            **kwargs,
        )

    @d.dedent
    def get_latent_representation(self, adata: AnnData | None = None) -> np.ndarray:
        """Embedding of every spot (online encoder on the unmasked input), n_obs × n_latent.

        Parameters
        ----------
        %(getter_adata)s
        """
        self._check_if_trained(warn=False)
        return self._evaluate(adata, lambda m, x: m.encoder(x, m.graph)).cpu().numpy()

    @d.dedent
    def get_reconstruction(self, adata: AnnData | None = None) -> np.ndarray:
        """Decoder output in the input space (PCA or scaled genes), n_obs × n_input.

        Parameters
        ----------
        %(getter_adata)s
        """
        self._check_if_trained(warn=False)
        recon = self._evaluate(
            adata, lambda m, x: m.generative(m.encoder(x, m.graph))["reconstruction"]
        )
        return recon.cpu().numpy()

    @d.dedent
    def get_labels(
        self,
        adata: AnnData | None = None,
        n_clusters: int | None = None,
        *,
        cluster_method: ClusterMethod = "gmm",
        refine: int | None = 30,
        random_state: int = 0,
    ) -> pd.Categorical:
        """Cluster the embedding into spatial domains.

        Parameters
        ----------
        %(getter_adata)s
        n_clusters
            Number of domains; default: the ``n_clusters`` of the model.
        %(cluster_method)s
        %(refine)s
            30 in the paper's DLPFC runs.
        random_state
            Seed of the clustering.

        Returns
        -------
        Domain labels, categorical with categories ``"0" … "n_clusters-1"``.
        """
        adata = self.adata if adata is None else adata
        return self._domains(
            self.get_latent_representation(adata),
            adata,
            self.module.n_clusters if n_clusters is None else n_clusters,
            method=cluster_method,
            refine=refine,
            random_state=random_state,
        )
