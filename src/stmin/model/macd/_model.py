"""MACD model class (scvi-tools style): deconvolve spots with a reference-trained network."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from anndata import AnnData
from scvi import REGISTRY_KEYS
from scvi.data.fields import CategoricalObsField, LayerField, ObsmField

from ..._constants import DOMAIN_KEY as DOMAIN_COLUMN
from ..._constants import PROPORTIONS_KEY as PROPORTIONS_COLUMN
from ..._constants import PSEUDO_SPOTS_KEY
from ..._docs import d
from ..._random import check_random_state
from ..._settings import logger, torch_threads_kept
from ..._validate import (
    check_adata,
    check_choice,
    check_counts,
    check_finite,
    check_int,
    check_keys,
    check_number,
    get_layer,
    where,
)
from ...pp._markers import marker_genes
from ...pp._pseudo_spots import cell_type_labels, pseudo_spots
from .._base import ModelBase
from ._module import DOMAIN_KEY, PROPORTIONS_KEY, MACDModule
from ._plan import MACDTrainingPlan

DOMAINS = ("simulated", "real")
ADVERSARIAL = ("grl", "released", "none")
_SPOT_COLUMN = "spot"


def _counts(adata: AnnData, layer: str | None, name: str):
    counts = get_layer(adata, layer, name)
    check_counts(counts, where(name, layer))
    return counts


def _row_sums(x) -> np.ndarray:
    return np.asarray(x.sum(1)).ravel()


class MACD(ModelBase):
    """Masked adversarial network for cell-type deconvolution (MACD).

    Huang, Liu, Wang & Min, "Masked adversarial neural network for cell type deconvolution in
    spatial transcriptomics", IEEE BIBM 2024 (arXiv 2408.05065).

    Pseudo-spots simulated from an annotated reference (known proportions) and the real spots
    are embedded by one encoder (1,024 → 512, LeakyReLU, LayerNorm). Per mini-batch, an
    alignment step trains the encoder with a decoder that reconstructs one domain's spots
    from a 30 % masked input and with domain heads on the two halves of the embedding (a
    discriminator behind gradient reversal and a domain classifier); a proportion step trains
    the encoder and a softmax predictor on the pseudo-spots' proportions (mean squared error).
    The real spots' proportions are the predictor's output.

    Use :meth:`from_reference` to build the training data (marker genes, pseudo-spots, real
    spots) from a spatial AnnData and a reference; :meth:`setup_anndata` registers such a
    combined AnnData.

    Parameters
    ----------
    adata
        Pseudo-spots and real spots together, registered with :meth:`setup_anndata`.
    n_hidden, n_latent
        Encoder widths (1,024, 512).
    mask_rate
        Fraction of the masked domain's input entries set to zero (0.3).
    mask_domain
        ``"real"`` (the paper: masked autoencoding of the real spots) or ``"simulated"`` (the
        released code).
    adversarial
        ``"grl"`` (default): working domain heads, the gradient-reversed discriminator on the
        embedding's biological half and the domain classifier on its noise half. ``"released"``:
        the released code's heads (gradient reversal on the noise half; both heads end in a
        one-unit LayerNorm, so they output constants and never reach the encoder).
        ``"none"``: no domain heads.

    Notes
    -----
    Deviations from the released code, each with a switch where it matters: working domain
    heads (``adversarial``), masking of the real spots (``mask_domain``), the decoder's last
    layer is linear (the released one ends in LeakyReLU + LayerNorm, which cannot reproduce
    non-normalised inputs), reconstruction is scored on every entry of the unmasked input,
    the alignment and proportion steps alternate per mini-batch instead of per pass, one
    optimiser with parameter groups replaces three that each step the encoder, and the input
    features are log-normalised marker genes instead of a 2,048-d scVI latent (a scVI or any
    other representation can be given with ``features_key``).

    Examples
    --------
    >>> model = sm.model.MACD.from_reference(adata_st, adata_sc, labels_key="cell_type")
    >>> model.train()
    >>> props = model.get_proportions()  # DataFrame: spots × cell types
    """

    _module_cls = MACDModule
    _training_plan_cls = MACDTrainingPlan
    _save_anndata = True

    def __init__(
        self,
        adata: AnnData,
        *,
        n_hidden: int = 1024,
        n_latent: int = 512,
        mask_rate: float = 0.3,
        mask_domain: Literal["real", "simulated"] = "real",
        adversarial: Literal["grl", "released", "none"] = "grl",
    ):
        check_number(mask_rate, "mask_rate", min_value=0, max_value=1, max_inclusive=False)
        check_choice(mask_domain, "mask_domain", DOMAINS)
        check_choice(adversarial, "adversarial", ADVERSARIAL)
        check_int(n_hidden, "n_hidden", min_value=1)
        check_int(n_latent, "n_latent", min_value=2)
        super().__init__(adata)
        args = self.adata_manager.registry["setup_args"]
        self.cell_types = list(adata.obsm[args["proportions_key"]].columns)
        n_input = self.adata_manager.get_from_registry(REGISTRY_KEYS.X_KEY).shape[1]
        mapping = list(self.adata_manager.get_state_registry(DOMAIN_KEY)["categorical_mapping"])
        self.module = self._module_cls(
            n_input,
            len(self.cell_types),
            counts_input=args["features_key"] is None,
            n_hidden=n_hidden,
            n_latent=n_latent,
            mask_rate=mask_rate,
            mask_domain=mask_domain,
            adversarial=adversarial,
            simulated_code=mapping.index("simulated"),
        )
        domain = adata.obs[args["domain_key"]].astype(str)
        self._model_summary_string = (
            f"MACD: {n_input} input features, {len(self.cell_types)} cell types, "
            f"{int((domain == 'simulated').sum())} pseudo-spots and "
            f"{int((domain == 'real').sum())} real spots; masking {mask_domain} spots "
            f"({mask_rate:.0%}), domain heads: {adversarial}"
        )
        self.init_params_ = self._get_init_params(locals())

    @classmethod
    @d.dedent
    def setup_anndata(
        cls,
        adata: AnnData,
        domain_key: str = DOMAIN_COLUMN,
        proportions_key: str = PROPORTIONS_COLUMN,
        layer: str | None = None,
        features_key: str | None = None,
        **kwargs,
    ) -> None:
        """Register pseudo-spots and real spots for training.

        Parameters
        ----------
        adata
            Spots × genes, pseudo-spots and real spots together.
        domain_key
            ``obs`` column with ``"simulated"`` or ``"real"`` per spot (registered as a
            categorical, as scvi-tools does: its codes go to ``obs["_scvi_domain"]``).
        proportions_key
            ``obsm`` DataFrame of cell-type proportions (columns = cell types; rows of the
            pseudo-spots sum to 1; rows of real spots are ignored and may be zeros).
        %(layer)s
            The counts are log-normalised inside the model.
        features_key
            ``obsm`` key of a representation to use as input instead of the counts (e.g. a scVI
            latent of both domains).
        """
        setup_method_args = cls._get_setup_method_args(**locals())
        check_adata(adata)
        if not isinstance(domain_key, str) or domain_key not in adata.obs:
            raise KeyError(
                f"`adata.obs[{domain_key!r}]` not found: it must say 'simulated' or 'real' for "
                "each spot (`MACD.from_reference` builds it)."
            )
        domain = adata.obs[domain_key].astype(str)
        unknown = sorted(set(domain) - set(DOMAINS))
        if unknown:
            raise ValueError(
                f"`adata.obs[{domain_key!r}]` must hold 'simulated' or 'real' (found {unknown})."
            )
        simulated = (domain == "simulated").to_numpy()
        if not simulated.any():
            raise ValueError("No 'simulated' spots: MACD trains on pseudo-spots of known mixture.")
        if (
            not isinstance(proportions_key, str)
            or proportions_key not in adata.obsm
            or not isinstance(adata.obsm[proportions_key], pd.DataFrame)
        ):
            raise KeyError(
                f"`adata.obsm[{proportions_key!r}]` must be a DataFrame of cell-type proportions "
                "(`sm.pp.pseudo_spots` writes one)."
            )
        props = adata.obsm[proportions_key].to_numpy(dtype=float)
        check_finite(props, f"`adata.obsm[{proportions_key!r}]`")
        if not np.allclose(props[simulated].sum(1), 1, atol=1e-4):
            raise ValueError(
                f"Rows of `adata.obsm[{proportions_key!r}]` must sum to 1 for the pseudo-spots."
            )
        if features_key is None:
            counts = _counts(adata, layer, "adata")
            if not (_row_sums(counts[simulated]) > 0).any():
                raise ValueError("The pseudo-spots have no counts.")
            x_field = LayerField(REGISTRY_KEYS.X_KEY, layer, is_count_data=True)
        else:
            if not isinstance(features_key, str) or features_key not in adata.obsm:
                raise KeyError(
                    f"`adata.obsm[{features_key!r}]` not found; available keys: {list(adata.obsm)}."
                )
            check_finite(np.asarray(adata.obsm[features_key]), f"`adata.obsm[{features_key!r}]`")
            x_field = ObsmField(REGISTRY_KEYS.X_KEY, features_key)
        fields = [
            x_field,
            CategoricalObsField(DOMAIN_KEY, domain_key),
            ObsmField(PROPORTIONS_KEY, proportions_key),
        ]
        cls._register_fields(adata, fields, setup_method_args, **kwargs)

    @classmethod
    def from_reference(
        cls,
        adata_st: AnnData,
        adata_sc: AnnData,
        labels_key: str,
        *,
        layer: str | None = None,
        reference_layer: str | None = None,
        genes: list[str] | None = None,
        n_top_markers: int = 200,
        n_spots: int = 10_000,
        random_state: int | None = 0,
        **model_kwargs,
    ) -> MACD:
        """Build the training data from spatial spots and an annotated reference; return a model.

        Steps: shared genes; per-type marker genes of the reference (:func:`stmin.pp.marker_genes`,
        top ``n_top_markers`` per type) unless ``genes`` is given; ``n_spots`` pseudo-spots
        (:func:`stmin.pp.pseudo_spots`, library sizes matched to the real spots); then pseudo-spots
        and real spots with counts over those genes in one AnnData (``model.adata``).

        Parameters
        ----------
        adata_st
            Spots × genes, raw counts in ``.X`` or ``layers[layer]``.
        adata_sc
            Reference cells × genes, raw counts in ``.X`` or ``layers[reference_layer]``.
        labels_key
            ``adata_sc.obs`` column of cell types.
        layer, reference_layer
            Count layers of ``adata_st`` and ``adata_sc``.
        genes
            Input genes (default: the markers).
        n_top_markers
            Markers per cell type (200).
        n_spots
            Pseudo-spots (10,000).
        random_state
            Seed of the simulation.
        **model_kwargs
            Arguments of :class:`MACD`.
        """
        check_adata(adata_st, "adata_st", allow_view=True, unique_vars=True)
        check_adata(adata_sc, "adata_sc", allow_view=True, unique_vars=True)
        check_int(n_top_markers, "n_top_markers", min_value=1)
        check_int(n_spots, "n_spots", min_value=2)
        random_state = check_random_state(random_state)
        if genes is not None:
            genes = check_keys(genes, "genes")
        st_counts = _counts(adata_st, layer, "adata_st")
        _counts(adata_sc, reference_layer, "adata_sc")
        labels = cell_type_labels(adata_sc, labels_key, min_cells=2)
        shared = adata_sc.var_names.intersection(adata_st.var_names, sort=False)
        if len(shared) == 0:
            raise ValueError(
                "`adata_st` and `adata_sc` share no genes: check that both use the same gene "
                "identifiers (symbols or Ensembl IDs) in `var_names`."
            )
        if genes is None:
            with torch_threads_kept():
                genes = marker_genes(
                    adata_sc, labels_key, layer=reference_layer, genes=shared, n_top=n_top_markers
                )
            if not genes:
                logger.warning("No marker gene passed the thresholds; using all shared genes.")
                genes = list(shared)
        else:
            missing = pd.Index(genes).difference(shared)
            if len(missing):
                raise ValueError(
                    f"{len(missing)} of `genes` are not in both AnnData (e.g. {list(missing[:5])})."
                )
        genes = list(genes)
        st_cols = adata_st.var_names.get_indexer(genes)
        real = sp.csr_matrix(st_counts[:, st_cols], dtype=np.float32)
        has_counts = _row_sums(real) > 0
        if not has_counts.any():
            raise ValueError(f"No spot of `adata_st` has counts over the {len(genes)} genes.")
        sim = pseudo_spots(
            adata_sc,
            labels_key,
            n_spots,
            layer=reference_layer,
            genes=genes,
            library_sizes=_row_sums(real)[has_counts],
            random_state=random_state,
        )
        real_names = adata_st.obs_names[has_counts]
        types = sim.obsm[PROPORTIONS_COLUMN].columns
        obs = pd.DataFrame(
            {
                DOMAIN_COLUMN: pd.Categorical(
                    ["simulated"] * sim.n_obs + ["real"] * len(real_names), categories=list(DOMAINS)
                ),
                _SPOT_COLUMN: [""] * sim.n_obs + list(real_names),
            },
            index=[*sim.obs_names, *(f"real_{n}" for n in real_names)],
        )
        props = np.vstack(
            [sim.obsm[PROPORTIONS_COLUMN].to_numpy(), np.zeros((len(real_names), len(types)))]
        )
        adata = AnnData(
            sp.vstack([sim.X, real[has_counts]]).tocsr().astype(np.float32),
            obs=obs,
            var=pd.DataFrame(index=pd.Index(genes, dtype=str)),
            obsm={PROPORTIONS_COLUMN: pd.DataFrame(props, index=obs.index, columns=types)},
        )
        adata.uns[PSEUDO_SPOTS_KEY] = {
            **sim.uns[PSEUDO_SPOTS_KEY],
            "n_reference_cells": int(adata_sc.n_obs),
            "cell_type_counts": {
                str(k): int(v) for k, v in pd.Series(labels).value_counts().items()
            },
        }
        cls.setup_anndata(adata, domain_key=DOMAIN_COLUMN, proportions_key=PROPORTIONS_COLUMN)
        return cls(adata, **model_kwargs)

    def train(
        self,
        max_epochs: int = 200,
        *,
        batch_size: int = 2048,
        lr: float = 1e-3,
        lr_discriminator: float = 5e-4,
        plan_kwargs: dict | None = None,
        **kwargs,
    ):
        """Train on shuffled mini-batches of pseudo-spots and real spots (the paper's settings).

        Parameters
        ----------
        max_epochs
            Epochs (200).
        batch_size
            Spots per mini-batch (2,048).
        lr, lr_discriminator
            Adam learning rates (0.001; 0.0005 for the discriminator). The released code uses
            0.01 and 0.005 on a scVI latent; on log-normalised marker genes 0.01 left the
            proportion head near the mean in our trials.
        plan_kwargs
            Further arguments of :class:`~stmin.model.macd.MACDTrainingPlan`.
        **kwargs
            Further arguments of :meth:`stmin.train.TrainingMixin.train` (``accelerator``,
            ``devices``, ``enable_progress_bar`` …).
        """
        lr_discriminator = check_number(
            lr_discriminator, "lr_discriminator", min_value=0, min_inclusive=False
        )
        return super().train(
            max_epochs,
            batch_size=batch_size,
            lr=lr,
            plan_kwargs={"lr_discriminator": lr_discriminator, **(plan_kwargs or {})},
            **kwargs,
        )

    # -- outputs --------------------------------------------------------------------------------

    def _inputs(self, adata: AnnData | None, layer: str | None) -> tuple[np.ndarray, pd.Index]:
        """Input rows (counts over the model's genes, or features) and their names."""
        args = self.adata_manager.registry["setup_args"]
        if adata is None:
            x = self.adata_manager.get_from_registry(REGISTRY_KEYS.X_KEY)
            real = (self.adata.obs[args["domain_key"]].astype(str) == "real").to_numpy()
            names = self.adata.obs_names[real]
            if _SPOT_COLUMN in self.adata.obs:
                names = pd.Index(self.adata.obs[_SPOT_COLUMN].to_numpy()[real])
            x = x[real]
        elif not isinstance(adata, AnnData):
            raise TypeError(f"`adata` must be an AnnData, got {type(adata).__name__}.")
        elif args["features_key"] is not None:
            check_adata(adata, allow_view=True, need_vars=False)
            key = args["features_key"]
            if key not in adata.obsm:
                raise KeyError(f"`adata.obsm[{key!r}]` not found (the model's input features).")
            x, names = adata.obsm[key], adata.obs_names
        else:
            check_adata(adata, allow_view=True, unique_vars=True)
            genes = self.adata.var_names
            missing = genes.difference(adata.var_names)
            if len(missing):
                raise ValueError(
                    f"`adata` lacks {len(missing)} of the model's {len(genes)} genes (e.g. "
                    f"{list(missing[:5])})."
                )
            x = _counts(adata, layer, "adata")[:, adata.var_names.get_indexer(genes)]
            names = adata.obs_names
        x = x.toarray() if sp.issparse(x) else np.asarray(x)
        return x.astype(np.float32), pd.Index(names)

    @torch.inference_mode()
    def get_proportions(
        self, adata: AnnData | None = None, *, layer: str | None = None, batch_size: int = 4096
    ) -> pd.DataFrame:
        """Cell-type proportions of spots (rows sum to 1; columns in :attr:`cell_types` order).

        Parameters
        ----------
        adata
            Spots with the model's genes (raw counts); default: the real spots it trained with.
        layer
            Count layer of ``adata``.
        batch_size
            Spots per forward pass.

        Notes
        -----
        Spots without counts over the model's genes carry no information: they get the uniform
        row ``1 / n_types`` and a warning.
        """
        self._check_if_trained(warn=False)
        check_int(batch_size, "batch_size", min_value=1)
        x, names = self._inputs(adata, layer)
        self.module.eval()
        x_t = torch.as_tensor(x)
        out = np.vstack(
            [
                self.module.proportions(
                    self.module.features(x_t[i : i + batch_size].to(self.device))
                )
                .cpu()
                .numpy()
                for i in range(0, len(x_t), batch_size)
            ]
        )
        if self.module.counts_input:
            empty = x.sum(1) == 0
            if empty.any():
                logger.warning(
                    f"{int(empty.sum())} spots have no counts over the model's genes; their "
                    "proportions are set to the uniform 1 / n_types."
                )
                out[empty] = 1 / len(self.cell_types)
        return pd.DataFrame(out.astype(np.float64), index=names, columns=self.cell_types)

    @torch.inference_mode()
    def get_latent_representation(
        self, adata: AnnData | None = None, *, layer: str | None = None, batch_size: int = 4096
    ) -> np.ndarray:
        """The 512-d encoder embedding of spots (default: the real spots it trained with)."""
        self._check_if_trained(warn=False)
        check_int(batch_size, "batch_size", min_value=1)
        x, _ = self._inputs(adata, layer)
        self.module.eval()
        x_t = torch.as_tensor(x)
        return np.vstack(
            [
                self.module.encoder(self.module.features(x_t[i : i + batch_size].to(self.device)))
                .cpu()
                .numpy()
                for i in range(0, len(x_t), batch_size)
            ]
        )
