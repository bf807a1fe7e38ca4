"""STG3Net model class (scvi-tools style)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from scvi import REGISTRY_KEYS
from scvi.data.fields import CategoricalObsField

from ..._cluster import ClusterMethod
from ..._constants import CONNECTIVITIES_KEY, SPATIAL_KEY, STG3NET_INPUT_KEY, STG3NET_INPUT_STEM
from ..._docs import d
from ..._validate import (
    check_adata,
    check_batches,
    check_choice,
    check_int,
    check_masking,
    check_n_clusters,
    check_number,
    get_graph,
)
from .._graph_base import GraphModelBase
from ._module import Adversarial, STG3NetModule


class STG3Net(GraphModelBase):
    """Multi-slice spatial domains: masked graph autoencoder with slice-adversarial training.

    Fang, Zhu & Min, "Multi-Slice Spatial Transcriptomics Data Integration Analysis with
    STG3Net", IEEE BIBM 2024 (arXiv:2408.15246). One encoder (STMGAC's backbone) embeds all
    slices through a block-diagonal spatial graph; batch effects are removed by a triplet loss
    on G2N anchors (similar spots of different slices with the same pseudo-label) and by a
    slice discriminator trained through gradient reversal.

    Parameters
    ----------
    adata
        AnnData registered with :meth:`setup_anndata`.
    n_clusters
        Number of domains: the pseudo-labels that filter the anchors, and the default of
        :meth:`get_labels`.
    n_latent, n_hidden, n_gcn_hidden, dropout
        Architecture (16; (64, 32); 64; 0.2).
    mask_rate, replace_rate
        Fraction of nodes masked per step (0.5) and of those given random nodes' features
        instead of the mask token (0.1).
    sce_t
        Exponent of the scaled cosine reconstruction error (2).
    loss_weights
        Weights of the reconstruction, triplet and adversarial losses ((0.7, 1.0, 0.1), the
        paper's DLPFC configuration; its mouse-brain one is (0.7, 0.5, 0.1)).
    adversarial
        ``"grl"`` (default): the slice discriminator's gradient reaches the encoder reversed, so
        the embedding learns to hide the slice (the paper's intent). ``"none"``: the
        discriminator only monitors how separable the slices are, which is what the released
        code effectively does (its adversarial term is computed without gradient).
    n_anchor_neighbors, anchor_drop_rate
        G2N candidates per spot in the other slices (50) and their random drop rate (0.5).
    start_step, t_step
        The triplet loss starts at epoch ``start_step`` (500) and anchors are mined again every
        ``t_step`` epochs (50).

    Notes
    -----
    Deviations from the released code, deliberate:

    - The adversarial branch trains the encoder (gradient reversal, cross-entropy on the slice
      labels); the released code swaps the arguments of its cross-entropy and computes the
      generator's adversarial term under ``no_grad``, so only ``adversarial="none"`` matches its
      behaviour.
    - Anchors are mined from the unmasked embedding (the released code embeds a randomly masked
      input); pseudo-labels come from a tied-covariance Gaussian mixture (mclust EEE analogue).
    - The positive of an anchor is its most similar partner (the released code takes the first
      partner in its pair graph's insertion order, which is the most similar one for the slice
      that found the pair).
    - G2N is vectorised (chunked top-k, boolean label masks), not a Python loop over spots.

    Examples
    --------
    >>> adata = sm.pp.concat_slices({"151673": a, "151674": b, "151675": c}, batch_key="slice")
    >>> sm.pp.spatial_graph(adata, n_neighs=12, library_key="slice")
    >>> sm.pp.stmgac_preprocess(adata, key_added="stg3net_input")
    >>> sm.model.STG3Net.setup_anndata(adata, batch_key="slice")
    >>> model = sm.model.STG3Net(adata, n_clusters=7)
    >>> model.train()
    >>> adata.obs["stg3net"] = model.get_labels()
    """

    def __init__(
        self,
        adata: AnnData,
        n_clusters: int,
        *,
        n_latent: int = 16,
        n_hidden: Sequence[int] = (64, 32),
        n_gcn_hidden: int = 64,
        dropout: float = 0.2,
        mask_rate: float = 0.5,
        replace_rate: float = 0.1,
        sce_t: float = 2.0,
        loss_weights: Sequence[float] = (0.7, 1.0, 0.1),
        adversarial: Adversarial = "grl",
        n_anchor_neighbors: int = 50,
        anchor_drop_rate: float = 0.5,
        start_step: int = 500,
        t_step: int = 50,
    ):
        super().__init__(adata)
        check_n_clusters(n_clusters, adata.n_obs)
        check_masking(mask_rate, replace_rate, loss_weights, 3)
        check_number(
            anchor_drop_rate, "anchor_drop_rate", min_value=0, max_value=1, max_inclusive=False
        )
        check_choice(adversarial, "adversarial", ("grl", "none"))
        for name, value in (
            ("n_latent", n_latent),
            ("n_gcn_hidden", n_gcn_hidden),
            ("n_anchor_neighbors", n_anchor_neighbors),
            ("t_step", t_step),
        ):
            check_int(value, name, min_value=1)
        if isinstance(n_hidden, str) or not hasattr(n_hidden, "__len__") or not len(n_hidden):
            raise ValueError(f"`n_hidden` must be a non-empty list of widths (got {n_hidden!r}).")
        for i, width in enumerate(n_hidden):
            check_int(width, f"n_hidden[{i}]", min_value=1)
        check_int(start_step, "start_step", min_value=0)
        check_number(dropout, "dropout", min_value=0, max_value=1, max_inclusive=False)
        check_number(sce_t, "sce_t", min_value=0, min_inclusive=False)
        n_input = self._features().shape[1]
        n_batches = self.summary_stats.n_batch
        self.module = STG3NetModule(
            n_input,
            self._graph(),
            n_batches,
            n_clusters,
            n_hidden=tuple(n_hidden),
            n_gcn_hidden=n_gcn_hidden,
            n_latent=n_latent,
            dropout=dropout,
            mask_rate=mask_rate,
            replace_rate=replace_rate,
            sce_t=sce_t,
            loss_weights=tuple(loss_weights),
            adversarial=adversarial,
            n_anchor_neighbors=n_anchor_neighbors,
            anchor_drop_rate=anchor_drop_rate,
            start_step=start_step,
            t_step=t_step,
        )
        self.anchor_history_: list[dict] = []
        self._model_summary_string = (
            f"STG3Net: {n_batches} slices, {n_input} inputs → {n_latent}-d embedding, "
            f"{n_clusters} domains, adversarial={adversarial!r}"
        )
        self.init_params_ = self._get_init_params(locals())

    @classmethod
    @d.dedent
    def setup_anndata(
        cls,
        adata: AnnData,
        batch_key: str,
        use_rep: str | None = STG3NET_INPUT_KEY,
        layer: str | None = None,
        connectivity_key: str = CONNECTIVITIES_KEY,
        spatial_key: str = SPATIAL_KEY,
        **kwargs,
    ) -> None:
        """Register the model input, the slice of each spot and the block-diagonal graph.

        Parameters
        ----------
        adata
            Concatenated slices (:func:`stmin.pp.concat_slices`) with a per-slice spatial graph
            in ``obsp[connectivity_key]`` (:func:`stmin.pp.spatial_graph` with
            ``library_key=batch_key``).
        %(batch_key)s
            At least two slices.
        %(setup_use_rep)s
            The default is :func:`stmin.pp.stmgac_preprocess` run with
            ``key_added="stg3net_input"`` on the concatenated data.
        %(setup_layer)s
        %(connectivity_key)s
        %(spatial_key)s
            Used by the refinement of :meth:`get_labels`.
        """
        setup_method_args = cls._get_setup_method_args(**locals())
        check_adata(adata)
        check_batches(adata, batch_key)
        if use_rep == STG3NET_INPUT_KEY and use_rep not in adata.obsm:
            raise KeyError(
                f"`adata.obsm[{STG3NET_INPUT_KEY!r}]` not found. Run "
                f"`sm.pp.stmgac_preprocess(adata, key_added={STG3NET_INPUT_STEM!r})` first, or "
                "pass `use_rep=` naming another representation."
            )
        codes = pd.Categorical(adata.obs[batch_key]).codes
        graph = get_graph(adata, connectivity_key).tocoo()
        if np.any(codes[graph.row] != codes[graph.col]):
            raise ValueError(
                f"`adata.obsp[{connectivity_key!r}]` links spots of different slices. Build it "
                f"per slice: `sm.pp.spatial_graph(adata, library_key={batch_key!r})`."
            )
        cls._warn_if_counts(adata, use_rep, layer)
        cls._register(
            adata,
            setup_method_args,
            use_rep=use_rep,
            layer=layer,
            connectivity_key=connectivity_key,
            extra_fields=[CategoricalObsField(REGISTRY_KEYS.BATCH_KEY, batch_key)],
            **kwargs,
        )

    def train(
        self,
        max_epochs: int = 1000,
        *,
        lr: float = 1e-3,
        weight_decay: float = 1e-3,
        gradient_clip_val: float | None = 5.0,
        **kwargs,
    ):
        """Train on all slices at once with the paper's optimiser settings.

        Adam (``lr`` 1e-3, ``weight_decay`` 1e-3), gradient norm clipped at 5, 1,000 epochs.
        Other arguments are those of :meth:`stmin.train.TrainingMixin.train`
        (``accelerator``, ``devices``, ``early_stopping``, ``enable_progress_bar`` …). The anchor
        counts of every refresh are kept in :attr:`anchor_history_`.
        """
        out = super().train(
            max_epochs,
            lr=lr,
            weight_decay=weight_decay,
            gradient_clip_val=gradient_clip_val,
            **kwargs,
        )
        self.anchor_history_ = list(self.module.anchor_log)
        return out

    @d.dedent
    def get_latent_representation(self, adata: AnnData | None = None) -> np.ndarray:
        """Joint embedding of every spot (encoder on the unmasked input), n_obs × n_latent.

        Parameters
        ----------
        %(getter_adata)s
        """
        self._check_if_trained(warn=False)
        return self._evaluate(adata, lambda m, x: m.encoder(x, m.graph)).cpu().numpy()

    @d.dedent
    def get_labels(
        self,
        adata: AnnData | None = None,
        n_clusters: int | None = None,
        *,
        cluster_method: ClusterMethod = "gmm",
        refine: int | None = None,
        random_state: int = 0,
    ) -> pd.Categorical:
        """Cluster the joint embedding into domains shared by all slices.

        Parameters
        ----------
        %(getter_adata)s
        n_clusters
            Number of domains; default: the ``n_clusters`` of the model.
        %(cluster_method)s
        %(refine)s
            ``None`` is the paper's setting.
        random_state
            Seed of the clustering.

        Returns
        -------
        Domain labels, categorical with categories ``"0" … "n_clusters-1"``.
        """
        adata = self.adata if adata is None else adata
        groups = self.get_from_registry(adata, REGISTRY_KEYS.BATCH_KEY).ravel()
        return self._domains(
            self.get_latent_representation(adata),
            adata,
            self.module.n_clusters if n_clusters is None else n_clusters,
            method=cluster_method,
            refine=refine,
            random_state=random_state,
            groups=groups,
        )
