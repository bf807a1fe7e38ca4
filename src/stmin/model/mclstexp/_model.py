"""mclSTExp model class (scvi-tools style): train on reference sections, predict from H&E."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from anndata import AnnData
from scvi import REGISTRY_KEYS
from scvi.data import AnnDataManager
from scvi.data.fields import LayerField, NumericalObsField
from scvi.model.base import BaseModelClass, UnsupervisedTrainingMixin
from torch import nn

from ..._validate import check_adata, check_counts, check_finite, get_layer
from ...nn._image_encoders import image_encoder
from .._graph_base import INDICES_COLUMN
from ._module import ARRAY_X, ARRAY_Y, MclSTExpModule

ARRAY_COORD_KEYS = (("array_x", "array_y"), ("array_row", "array_col"))


def image_input(adata: AnnData, image_key: str, name: str = "adata") -> np.ndarray:
    """Return ``obsm[image_key]``: 2-D finite features, or ``uint8`` patches ``(n, h, w, 3)``."""
    if image_key not in adata.obsm:
        raise KeyError(
            f"`{name}.obsm[{image_key!r}]` not found. Compute image features with "
            f"`sm.pp.he_features({name})` (after `sm.pp.he_patches({name})`), or store features "
            "from another model there."
        )
    value = adata.obsm[image_key]
    value = value.to_numpy() if isinstance(value, pd.DataFrame) else np.asarray(value)
    if value.ndim == 4 and value.dtype == np.uint8 and value.shape[-1] == 3:
        return value
    if value.ndim != 2:
        raise ValueError(
            f"`{name}.obsm[{image_key!r}]` must be features (n_obs × d) or uint8 patches "
            f"(n_obs, h, w, 3); got shape {value.shape}."
        )
    check_finite(value, f"`{name}.obsm[{image_key!r}]`")
    return value.astype(np.float32, copy=False)


def array_coords(adata: AnnData, keys: Sequence[str] | None, name: str = "adata") -> tuple:
    """Return the two ``obs`` columns holding integer array coordinates (found or checked)."""
    if keys is None:
        keys = next((k for k in ARRAY_COORD_KEYS if set(k) <= set(adata.obs)), None)
        if keys is None:
            raise KeyError(
                f"No array coordinates in `{name}.obs` (looked for {ARRAY_COORD_KEYS}). Pass "
                "`array_coords_keys=` naming the two obs columns with the spots' grid positions."
            )
    keys = tuple(keys)
    for key in keys:
        if key not in adata.obs:
            raise KeyError(f"`{name}.obs[{key!r}]` not found (array coordinates).")
        values = pd.to_numeric(adata.obs[key], errors="coerce").to_numpy()
        if (
            not np.isfinite(values).all()
            or (values < 0).any()
            or (values != np.round(values)).any()
        ):
            raise ValueError(
                f"`{name}.obs[{key!r}]` must hold non-negative integer grid positions."
            )
    return keys


def retrieve(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    top_k: int,
    distance: str = "l2",
) -> torch.Tensor:
    """Inverse-squared-distance weighted mean of the values of the ``top_k`` most similar keys.

    Candidates are the ``top_k`` keys of highest cosine similarity to each query; their weights
    are ``1/d²`` (``d`` the L2 or L1 distance between the unnormalised vectors), summing to 1.
    """
    k = min(int(top_k), len(keys))
    sim = F.normalize(queries, dim=1) @ F.normalize(keys, dim=1).T
    top = sim.topk(k, dim=1).indices
    diff = queries[:, None, :] - keys[top]
    d = diff.abs().sum(-1) if distance == "l1" else diff.norm(dim=-1)
    w = d.clamp_min(1e-8) ** -2
    w = w / w.sum(1, keepdim=True)
    return (w[..., None] * values[top]).sum(1)


class MclSTExp(UnsupervisedTrainingMixin, BaseModelClass):
    """Multimodal contrastive learning of spot expression and H&E, for prediction from H&E.

    Min, Shi, Zhang, Wan & Wang, "Multimodal contrastive learning for spatial gene expression
    prediction using histology images", Briefings in Bioinformatics 25(6), bbae551 (2024).

    Each training spot is a word: its panel expression plus learned embeddings of its array row
    and column. A mini-batch of spots, drawn across all reference sections, is one sentence
    through a Transformer; a projection head maps each spot to 256-d. The spot's H&E patch goes
    through an image encoder and its own projection head. A symmetric CLIP loss aligns the two.
    A query spot's expression is the inverse-squared-distance weighted mean of the measured
    expression of the ``top_k`` reference spots most similar to its image embedding.

    Parameters
    ----------
    adata
        Reference spots registered with :meth:`setup_anndata` (all training sections together).
    n_layers, n_heads, head_dim
        Transformer depth, heads and head width (2, 8, 64 as the paper).
    n_latent
        Embedding width (256).
    temperature
        CLIP temperature (1.0).
    position
        Learned position embeddings of the array coordinates (``False`` with ``n_layers=0``
        gives a BLEEP-style model that embeds expression alone).
    encoder
        Only when ``obsm[image_key]`` holds patches: the image network trained end to end
        (``"densenet121"``, the paper's, or ``"stats"``, or a module with ``out_dim``).
    weights_path
        DenseNet-121 state dict (torchvision layout) to start from.
    augment
        Random flips, rotations and colour jitter of the patches during end-to-end training.
    dropout
        Dropout of the Transformer and projection heads (0).
    target_sum, log_base
        Expression transform: per spot, counts / (sum over the panel) × ``target_sum``, then
        ``log_base(1 + x)`` (``1e4`` and base 10, as mclSTExp's code).

    Notes
    -----
    With features in ``obsm[image_key]`` the image encoder is frozen (the CPU path): only the
    heads and the Transformer train, and the features are standardised with the reference's
    mean and standard deviation. Deviations from the released code: the position tables are
    sized to the largest array coordinate + 1 instead of 65,536 rows (≈0.4 GB for 785 genes);
    the loss runs on any device.

    Examples
    --------
    >>> sm.pp.he_patches(ref)
    ... sm.pp.he_features(ref)  # obsm["X_he_stats"]
    >>> sm.model.MclSTExp.setup_anndata(ref, image_key="X_he_stats")
    >>> model = sm.model.MclSTExp(ref)
    >>> model.train()
    >>> pred = model.predict(query)  # DataFrame: query spots × reference genes
    """

    _module_cls = MclSTExpModule

    def __init__(
        self,
        adata: AnnData,
        *,
        n_layers: int = 2,
        n_heads: int = 8,
        head_dim: int = 64,
        n_latent: int = 256,
        temperature: float = 1.0,
        position: bool = True,
        encoder: str | nn.Module = "densenet121",
        weights_path: str | os.PathLike | None = None,
        augment: bool = True,
        dropout: float = 0.0,
        target_sum: float = 1e4,
        log_base: float = 10.0,
    ):
        super().__init__(adata)
        if n_layers < 0 or n_heads < 1 or head_dim < 1 or n_latent < 1:
            raise ValueError("`n_layers` must be ≥ 0 and `n_heads`, `head_dim`, `n_latent` ≥ 1.")
        if temperature <= 0:
            raise ValueError(f"`temperature` must be positive (got {temperature!r}).")
        args = self.adata_manager.registry["setup_args"]
        images = torch.as_tensor(image_input(adata, args["image_key"]))
        x, y = (self.adata.obs[k].to_numpy().astype(np.int64) for k in self._coord_keys())
        kwargs = {}
        if images.ndim == 2:
            kwargs["feature_mean"] = images.mean(0)
            kwargs["feature_std"] = images.std(0).clamp_min(1e-6)
        else:
            kwargs["image_encoder"] = image_encoder(encoder, weights_path)
        self.module = self._module_cls(
            self.summary_stats.n_vars,
            images,
            (int(x.max()) + 1, int(y.max()) + 1),
            n_layers=n_layers,
            n_heads=n_heads,
            head_dim=head_dim,
            n_latent=n_latent,
            dropout=dropout,
            temperature=temperature,
            position=position,
            target_sum=target_sum,
            log_base=log_base,
            augment_images=augment,
            **kwargs,
        )
        mode = "frozen features" if images.ndim == 2 else "patches, end to end"
        self._model_summary_string = (
            f"MclSTExp: {self.summary_stats.n_vars} genes, image input {tuple(images.shape[1:])} "
            f"({mode}), {n_layers} Transformer layers, {n_latent}-d embeddings"
        )
        self.init_params_ = self._get_init_params(locals())

    @classmethod
    def setup_anndata(
        cls,
        adata: AnnData,
        image_key: str = "X_he_stats",
        layer: str | None = None,
        array_coords_keys: Sequence[str] | None = None,
        **kwargs,
    ) -> None:
        """Register the reference spots: raw panel counts, image input and array coordinates.

        Parameters
        ----------
        adata
            Spots × panel genes of every reference section (e.g. concatenated).
        image_key
            ``obsm`` key of frozen image features (``n_obs × d``; the CPU path) or of ``uint8``
            patches ``(n_obs, h, w, 3)`` (end-to-end training of the image encoder).
        layer
            Layer holding the raw counts (``None``: ``.X``).
        array_coords_keys
            Two ``obs`` columns with integer grid positions; default ``("array_x", "array_y")``
            or ``("array_row", "array_col")``, whichever exists.
        """
        setup_method_args = cls._get_setup_method_args(**locals())
        check_adata(adata)
        counts = get_layer(adata, layer)
        what = "`adata.X`" if layer is None else f"`adata.layers[{layer!r}]`"
        check_counts(counts, what)
        totals = np.asarray(counts.sum(1)).ravel()
        if not (totals > 0).any():
            raise ValueError(f"{what} has no counts: the reference needs measured expression.")
        image_input(adata, image_key)
        keys = array_coords(adata, array_coords_keys)
        setup_method_args["setup_args"]["array_coords_keys"] = list(keys)
        adata.obs[INDICES_COLUMN] = np.arange(adata.n_obs)
        fields = [
            LayerField(REGISTRY_KEYS.X_KEY, layer, is_count_data=True),
            NumericalObsField(ARRAY_X, keys[0]),
            NumericalObsField(ARRAY_Y, keys[1]),
            NumericalObsField(REGISTRY_KEYS.INDICES_KEY, INDICES_COLUMN),
        ]
        manager = AnnDataManager(fields=fields, setup_method_args=setup_method_args)
        manager.register_fields(adata, **kwargs)
        cls.register_manager(manager)

    def _coord_keys(self) -> tuple[str, str]:
        return tuple(self.adata_manager.registry["setup_args"]["array_coords_keys"])

    def train(
        self,
        max_epochs: int = 90,
        *,
        batch_size: int = 128,
        lr: float = 1e-4,
        weight_decay: float = 1e-3,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        plan_kwargs: dict | None = None,
        **trainer_kwargs,
    ):
        """Train with Adam on shuffled mini-batches of reference spots (the paper's settings).

        Parameters
        ----------
        max_epochs
            Epochs (90); the last epoch is kept (no checkpoint selection).
        batch_size
            Spots per mini-batch, i.e. per Transformer sentence (128).
        lr, weight_decay
            Adam settings (1e-4, 1e-3).
        accelerator, devices
            Passed to Lightning (``"cpu"``, ``"gpu"``, ``"auto"``).
        plan_kwargs
            Further arguments of :class:`scvi.train.TrainingPlan`.
        **trainer_kwargs
            Further arguments of :class:`scvi.train.Trainer`.
        """
        self.module.train()
        plan = {"lr": lr, "weight_decay": weight_decay, "optimizer": "Adam", **(plan_kwargs or {})}
        trainer_kwargs.setdefault("early_stopping", False)
        return super().train(
            max_epochs=max_epochs,
            accelerator=accelerator,
            devices=devices,
            train_size=1.0,
            batch_size=batch_size,
            plan_kwargs=plan,
            **trainer_kwargs,
        )

    # -- embeddings -----------------------------------------------------------------------------

    def _reference_counts(self) -> np.ndarray:
        counts = self.adata_manager.get_from_registry(REGISTRY_KEYS.X_KEY)
        return counts.toarray() if sp.issparse(counts) else np.asarray(counts)

    @torch.inference_mode()
    def _spot_embeddings(self, chunk_size: int) -> torch.Tensor:
        counts = torch.as_tensor(self._reference_counts(), dtype=torch.float32)
        x, y = (
            torch.as_tensor(self.adata.obs[k].to_numpy().astype(np.int64))
            for k in self._coord_keys()
        )
        self.module.eval()
        out = [
            self.module.embed_spots(
                counts[i : i + chunk_size].to(self.device),
                x[i : i + chunk_size].to(self.device),
                y[i : i + chunk_size].to(self.device),
            ).cpu()
            for i in range(0, len(counts), chunk_size)
        ]
        return torch.cat(out)

    @torch.inference_mode()
    def _image_embeddings(self, adata: AnnData, batch_size: int, name: str) -> torch.Tensor:
        images = image_input(adata, self.adata_manager.registry["setup_args"]["image_key"], name)
        trained = self.module.images
        if images.shape[1:] != tuple(trained.shape[1:]) or images.dtype != np.dtype(
            str(trained.dtype).removeprefix("torch.")
        ):
            raise ValueError(
                f"`{name}`'s image input has shape {images.shape[1:]} ({images.dtype}); the model "
                f"was trained on {tuple(trained.shape[1:])} ({trained.dtype}). Compute it the same "
                "way (same encoder, same patch size)."
            )
        self.module.eval()
        images = torch.as_tensor(images)
        out = [
            self.module.embed_images(images[i : i + batch_size].to(self.device)).cpu()
            for i in range(0, len(images), batch_size)
        ]
        return torch.cat(out)

    def get_latent_representation(
        self,
        adata: AnnData | None = None,
        modality: Literal["spot", "image"] = "spot",
        *,
        chunk_size: int = 1024,
        batch_size: int = 64,
    ) -> np.ndarray:
        """Return the 256-d spot (expression) or image embeddings.

        Parameters
        ----------
        adata
            For ``modality="image"``, any AnnData with the same image input; spot embeddings are
            given for the reference only (they need measured expression and positions).
        modality
            ``"spot"`` or ``"image"``.
        chunk_size
            Spots per Transformer sentence when embedding the reference: consecutive spots in
            ``adata`` order. The original embeds its bank in sentences of 32 spots while it
            trains on sentences of 128 random spots; longer sentences were better on both
            HER2+ folds we compared (mean PCC 0.188 → 0.194 and 0.185 → 0.189 from 32 to 1,024
            spots, no change beyond), so the default is 1,024. Attention memory grows with its
            square.
        batch_size
            Patches or feature rows per forward pass.
        """
        self._check_if_trained(warn=False)
        if modality == "spot":
            if adata is not None and adata is not self.adata:
                raise ValueError("Spot embeddings are available for the reference only.")
            return self._spot_embeddings(chunk_size).numpy()
        if modality == "image":
            return self._image_embeddings(adata or self.adata, batch_size, "adata").numpy()
        raise ValueError(f"`modality` must be 'spot' or 'image' (got {modality!r}).")

    def predict(
        self,
        adata: AnnData,
        *,
        top_k: int = 200,
        distance: Literal["l2", "l1"] = "l2",
        chunk_size: int = 1024,
        batch_size: int = 64,
    ) -> pd.DataFrame:
        """Predict the panel expression of ``adata``'s spots from their images.

        Parameters
        ----------
        adata
            Query spots with the same image input as the reference (``obsm[image_key]``).
        top_k
            Reference spots retrieved per query spot by cosine similarity (200).
        distance
            Distance between unnormalised embeddings for the weights ``1/d²`` (``"l2"``, as the
            supplement's best setting; mclSTExp's HER2+ script uses ``"l1"``).
        chunk_size, batch_size
            See :meth:`get_latent_representation`.

        Returns
        -------
        Query spots × reference genes, in the transformed (log) space of the training targets.
        """
        self._check_if_trained(warn=False)
        check_adata(adata, "adata_query", allow_view=True, need_vars=False)
        if distance not in ("l1", "l2"):
            raise ValueError(f"`distance` must be 'l2' or 'l1' (got {distance!r}).")
        if not isinstance(top_k, int | np.integer) or top_k < 1:
            raise ValueError(f"`top_k` must be a positive integer (got {top_k!r}).")
        keys = self._spot_embeddings(chunk_size)
        queries = self._image_embeddings(adata, batch_size, "adata_query")
        values = self.module.transform(
            torch.as_tensor(self._reference_counts(), dtype=torch.float32)
        )
        pred = torch.cat(
            [
                retrieve(queries[i : i + 256], keys, values, top_k, distance)
                for i in range(0, len(queries), 256)
            ]
        )
        return pd.DataFrame(pred.numpy(), index=adata.obs_names, columns=self.adata.var_names)
