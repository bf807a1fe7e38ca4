"""SpaCRD model class (scvi-tools style): learn cancer regions on labelled sections, score new ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from anndata import AnnData
from scvi import REGISTRY_KEYS
from scvi.data.fields import LayerField, NumericalObsField, ObsmField

from ..._constants import SECTION_KEY, SPATIAL_KEY
from ..._docs import d
from ..._settings import logger
from ..._validate import (
    check_adata,
    check_choice,
    check_finite,
    check_int,
    check_key,
    check_kwargs,
    check_number,
    get_layer,
    get_obs,
)
from ...train import NeighborhoodDataSplitter
from ...train._neighborhoods import SETS_KEY, neighborhood_batches
from .._base import ModelBase
from .._references import as_references, panel_genes
from ._data import (
    neighbor_sets,
    scaled_expression,
    scaled_image,
    section_counts,
    variable_genes,
)
from ._module import IMAGE_KEY, LABELS_KEY, SpaCRDModule

DEFAULT_EXCLUDE = ("undetermined",)
N_NEIGHBORS = 7
"""Spots per neighbour set: a spot and its six nearest (the paper's)."""


def binary_labels(labels: pd.Series, positive: Sequence[str], exclude: Sequence[str]) -> np.ndarray:
    """1 for ``positive`` values, -1 for missing or ``exclude`` values, 0 for the rest."""
    values = labels.astype(object).to_numpy()
    missing = pd.isna(values)
    text = np.where(missing, "", values.astype(str))
    out = np.where(np.isin(text, list(positive)), 1, 0)
    out[missing | np.isin(text, list(exclude))] = -1
    return out.astype(np.int64)


def as_values(values, name: str, example: str) -> list[str]:
    """A label value or a list-like of them as a list of strings (``None`` → empty)."""
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if isinstance(values, Mapping) or not isinstance(values, Iterable):
        raise TypeError(f"`{name}` must be a label value or a list of them, e.g. {example}.")
    return [str(v) for v in values]


def check_positive(positive, labels: list[pd.Series], labels_key: str) -> list[str]:
    """``positive`` as a list of label values, at least one found in the references.

    Values found in no reference are named in a warning (a reference set need not hold every
    kind of cancer region); none found at all is an error.
    """
    example = "`['invasive cancer', 'cancer in situ']`"
    positive = as_values(positive, "positive", example)
    if not positive:
        raise ValueError(
            f"`positive` must name the label values that count as cancer, e.g. {example}."
        )
    seen = set()
    for series in labels:
        seen |= set(series.dropna().astype(str))
    absent = [p for p in positive if p not in seen]
    if len(absent) == len(positive):
        raise ValueError(
            f"`positive` values {absent} are not labels of `obs[{labels_key!r}]` in any "
            f"reference (labels found: {sorted(seen)[:20]})."
        )
    if absent:
        logger.warning(
            f"`positive` values {absent} occur in no reference's `obs[{labels_key!r}]`; "
            f"training on {[p for p in positive if p in seen]}."
        )
    return positive


class SpaCRD(ModelBase):
    """Cancer-region detection from expression and H&E features, learnt on labelled sections.

    Xue, Wan, Zhang & Min, "SpaCRD: Multimodal Deep Fusion of Histology and Spatial
    Transcriptomics for Cancer Region Detection", AAAI (2026).

    Every spot is read with its nearest spots (7 by default, itself included). Two encoders
    embed each spot's expression and image features; a first stage aligns them with a
    contrastive loss. In the second stage the centre spot's expression and image tokens attend
    over the other modality's tokens of the set, the two results are fused, and a variational
    autoencoder with one learnable prior mean per class (cancer or not) encodes the fusion; a
    discriminator on the posterior mean and log-variance gives the cancer logit. With
    expression alone (no image features) there is no alignment stage and the centre's
    expression token attends over its set's expression tokens.

    Build the training data from labelled sections with :meth:`from_references`, or register
    prepared data with :meth:`setup_anndata`.

    Parameters
    ----------
    adata
        Training spots registered with :meth:`setup_anndata`.
    n_hidden, n_embed, n_latent, n_heads
        Encoder hidden width (1024), token width (512), VAE latent width (64) and attention
        heads (8), as the paper.
    dropout, attention_dropout
        Dropout of the encoders (0.2) and of the attention weights (0.1).
    temperature
        Temperature of the alignment loss (0.07, the released training script's).
    kl_weight, prototype_weight, fused_weight
        Weights of the KL term (0.5), of the prototype separation (0.1) and of the fusion loss
        next to the classification loss (0.1).

    Notes
    -----
    Deviations from the released code, each a correction:

    - Embeddings of a neighbour set are L2-normalised along the feature axis (the code
      normalises along the neighbour axis).
    - Highly variable genes are chosen on the raw counts of all reference sections (seurat_v3
      with the section as batch), not on the log data of the first section.
    - The call threshold never sees the target's labels: a two-component mixture on the target's
      logits (the paper's) or a fixed probability; the code's evaluation thresholds at the true
      prevalence.
    - :meth:`get_scores` gives the discriminator's probabilities (or logits);
      :func:`stmin.tl.detect_cancer_regions` writes the paper's score, the logits min–max
      scaled over the section.
    - Spots with excluded labels (e.g. "undetermined") are never centres of the training sets,
      but their expression and image still serve as neighbours.
    - Each spot is encoded once per batch, and batches are compact regions of a section
      (:class:`~stmin.train.NeighborhoodDataSplitter`) rather than random spots, so that a
      batch's sets share their spots: the same loss for about a seventh of the compute.
    - The first stage trains on every spot of the references, the second on the labelled ones.
    - Schedule: 10 epochs per stage at Adam lr 1e-4 on batches of 128 centre spots, instead of
      100 epochs at lr 1e-5 on batches of 512. On held-out HER2+ patients the classification
      stage overfits the reference patients when it runs long: with 20 epochs the held-out AUC
      varied between seeds from 0.775 to 0.972 (H1) and 0.954 to 0.996 (B1), lowest where the
      training loss fell furthest, while 10 epochs gave 0.950–0.971 and 0.994–0.996 over nine
      and six single models (``benchmarks/results/spacrd_schedule/``). On the same held-out
      runs the paper's schedule gave a similar AUC at about nine times the time
      (``benchmarks/results/cancer_regions.md``). The separation term ``−‖μ₁ − μ₀‖`` is
      unbounded: at lr 1e-3 the held-out AUC fell to chance (0.538 on H1), so keep the
      learning rate at or below 1e-4.

    Examples
    --------
    >>> model = sm.model.SpaCRD.from_references(refs, "label", ["invasive cancer"])
    >>> model.train()
    >>> score = model.get_scores(target)
    """

    _module_cls = SpaCRDModule
    _data_splitter_cls = NeighborhoodDataSplitter
    _save_anndata = True

    def __init__(
        self,
        adata: AnnData,
        *,
        n_hidden: int = 1024,
        n_embed: int = 512,
        n_latent: int = 64,
        n_heads: int = 8,
        dropout: float = 0.2,
        attention_dropout: float = 0.1,
        temperature: float = 0.07,
        kl_weight: float = 0.5,
        prototype_weight: float = 0.1,
        fused_weight: float = 0.1,
    ):
        super().__init__(adata)
        for name, value in (
            ("n_hidden", n_hidden),
            ("n_embed", n_embed),
            ("n_latent", n_latent),
            ("n_heads", n_heads),
        ):
            check_int(value, name, min_value=1)
        if n_embed % n_heads:
            raise ValueError(f"`n_embed`={n_embed} must be a multiple of `n_heads`={n_heads}.")
        for name, value in (("dropout", dropout), ("attention_dropout", attention_dropout)):
            check_number(value, name, min_value=0, max_value=1, max_inclusive=False)
        check_number(temperature, "temperature", min_value=0, min_inclusive=False)
        for name, value in (
            ("kl_weight", kl_weight),
            ("prototype_weight", prototype_weight),
            ("fused_weight", fused_weight),
        ):
            check_number(value, name, min_value=0)
        image_key = self._setup_args["image_key"]
        n_image = 0 if image_key is None else int(self.adata.obsm[image_key].shape[1])
        self.module = self._module_cls(
            self.summary_stats.n_vars,
            n_image,
            n_hidden=n_hidden,
            n_embed=n_embed,
            n_latent=n_latent,
            n_heads=n_heads,
            dropout=dropout,
            attention_dropout=attention_dropout,
            temperature=temperature,
            kl_weight=kl_weight,
            prototype_weight=prototype_weight,
            fused_weight=fused_weight,
        )
        mode = "expression and image" if n_image else "expression only"
        self._model_summary_string = (
            f"SpaCRD ({mode}): {self.summary_stats.n_vars} genes"
            + (f", {n_image} image features" if n_image else "")
            + f", sets of {self.n_neighbors} spots"
        )
        self.init_params_ = self._get_init_params(locals())

    @classmethod
    @d.dedent
    def setup_anndata(
        cls,
        adata: AnnData,
        labels_key: str = LABELS_KEY,
        sets_key: str = SETS_KEY,
        image_key: str | None = None,
        layer: str | None = None,
        **kwargs,
    ) -> None:
        """Register prepared training spots (what :meth:`from_references` builds).

        Parameters
        ----------
        adata
            Training spots: expression scaled to [0, 1] per gene and section in ``X`` (or
            ``layer``), the neighbour sets and the classes.
        labels_key
            ``obs`` column of integer classes: 1 cancer, 0 not, -1 unlabelled (a neighbour only).
        sets_key
            ``obsm`` key of each spot's set: ``n_obs × k`` row indices, the spot itself first.
        image_key
            ``obsm`` key of the image features scaled to [0, 1]; ``None`` for expression alone.
        %(layer)s
        """
        setup_method_args = cls._get_setup_method_args(**locals())
        check_adata(adata)
        x = get_layer(adata, layer)
        check_finite(x, "the training expression")
        classes = get_obs(adata, labels_key, what="classes (1, 0 or -1)").to_numpy()
        if not np.isin(classes, (-1, 0, 1)).all():
            raise ValueError(f"`adata.obs[{labels_key!r}]` must hold 1, 0 or -1 only.")
        if not ((classes == 1).any() and (classes == 0).any()):
            raise ValueError(
                "The training spots need both classes: some labelled 1 (cancer) and some 0."
            )
        check_key(sets_key, "sets_key")
        if sets_key not in adata.obsm:
            raise KeyError(f"`adata.obsm[{sets_key!r}]` not found (the neighbour sets).")
        sets = np.asarray(adata.obsm[sets_key])
        if (
            sets.ndim != 2
            or sets.dtype.kind not in "iu"
            or (sets < 0).any()
            or (sets >= adata.n_obs).any()
            or not (sets[:, 0] == np.arange(adata.n_obs)).all()
        ):
            raise ValueError(
                f"`adata.obsm[{sets_key!r}]` must hold n_obs × k row indices, each row's own "
                "index first."
            )
        fields = [
            LayerField(REGISTRY_KEYS.X_KEY, layer, is_count_data=False),
            NumericalObsField(LABELS_KEY, labels_key),
            ObsmField(SETS_KEY, sets_key),
        ]
        if image_key is not None:
            if image_key not in adata.obsm:
                raise KeyError(f"`adata.obsm[{image_key!r}]` not found (the image features).")
            check_finite(np.asarray(adata.obsm[image_key]), f"`adata.obsm[{image_key!r}]`")
            fields.append(ObsmField(IMAGE_KEY, image_key))
        cls._register_fields(adata, fields, setup_method_args, **kwargs)

    @classmethod
    def from_references(
        cls,
        reference: AnnData | Sequence[AnnData] | Mapping[str, AnnData],
        labels_key: str,
        positive: str | Sequence[str],
        *,
        exclude: Sequence[str] = DEFAULT_EXCLUDE,
        genes: Sequence[str] | None = None,
        n_top_genes: int | None = 3000,
        image_key: str | None = None,
        layer: str | None = None,
        spatial_key: str = SPATIAL_KEY,
        n_neighbors: int = N_NEIGHBORS,
        **model_kwargs,
    ) -> SpaCRD:
        """Build the training data from labelled sections and return an untrained model.

        Each section is prepared on its own: ``log1p`` of counts per 10⁴, the selected genes
        and the image features each scaled to [0, 1] within the section, and every spot's set
        of ``n_neighbors`` nearest spots. The sections themselves are not changed.

        Parameters
        ----------
        reference
            One or several labelled sections with raw counts and spot coordinates.
        labels_key
            ``obs`` column of the region labels, the same in every reference.
        positive
            Label values that count as cancer (e.g. ``["invasive cancer", "cancer in situ"]``);
            values that occur in no reference are named in a warning.
        exclude
            Label values left out of training (spots the annotator could not call), like
            missing labels; values that do not occur are ignored; ``None``: only missing labels.
        genes
            Candidate genes, e.g. the target's ``var_names``: the genes kept are those shared by
            every reference and ``genes``; default all genes shared by the references.
        n_top_genes
            Highly variable genes kept among the candidates (3,000, the paper's); ``None`` keeps
            all.
        image_key
            ``obsm`` key of image features in every reference (:func:`stmin.pp.he_features`, or
            features from any model); ``None``: expression alone.
        %(layer)s
        spatial_key
            ``obsm`` key of the spot coordinates.
        n_neighbors
            Spots per set, the spot itself included (7, a spot and its six neighbours).
        **model_kwargs
            Arguments of :class:`SpaCRD`.
        """
        check_kwargs(model_kwargs, "model_kwargs", cls.__init__, reserved=("adata",))
        refs = as_references(reference)
        check_key(labels_key, "labels_key")
        n_neighbors = check_int(n_neighbors, "n_neighbors", min_value=1)
        if n_top_genes is not None:
            n_top_genes = check_int(n_top_genes, "n_top_genes", min_value=1)
        exclude = as_values(exclude, "exclude", "`['undetermined']`")
        labels = [
            get_obs(ref, labels_key, f"reference[{i}]", "region labels")
            for i, ref in enumerate(refs)
        ]
        positive = check_positive(positive, labels, labels_key)
        classes = [binary_labels(lab, positive, exclude) for lab in labels]
        pooled = np.concatenate(classes)
        if not (pooled == 1).any() or not (pooled == 0).any():
            which = "positive" if not (pooled == 1).any() else "negative"
            raise ValueError(
                f"The references have no {which} spots (labels {positive} count as cancer, "
                f"{list(exclude)} and missing labels are left out); training needs both."
            )
        if image_key is not None:
            check_key(image_key, "image_key")
            lacking = [f"reference[{i}]" for i, r in enumerate(refs) if image_key not in r.obsm]
            if lacking:
                where_else = "" if len(lacking) == len(refs) else " but present in the others"
                raise ValueError(
                    f"`obsm[{image_key!r}]` is missing from {lacking}{where_else}; compute the "
                    "image features for every section (`sm.pp.he_features`), or pass "
                    "`image_key=None` for expression alone."
                )
        shared = panel_genes(refs, None)
        if genes is not None:
            genes = pd.Index(shared).intersection(pd.Index(genes), sort=False)
            if not len(genes):
                raise ValueError(
                    "None of `genes` is measured in every reference; check that the target and "
                    "the references use the same gene identifiers (e.g. symbols)."
                )
        genes = list(shared if genes is None else genes)
        names = [f"reference[{i}]" for i in range(len(refs))]
        counts = [section_counts(r, layer, n) for r, n in zip(refs, names, strict=True)]
        genes = variable_genes(counts, [r.var_names for r in refs], genes, n_top_genes)
        blocks, images, sets, obs = [], [], [], []
        offset = 0
        for i, (ref, name) in enumerate(zip(refs, names, strict=True)):
            blocks.append(scaled_expression(counts[i], ref.var_names, genes))
            if image_key is not None:
                images.append(scaled_image(ref, image_key, name))
            sets.append(neighbor_sets(ref, spatial_key, n_neighbors, name) + offset)
            offset += ref.n_obs
            obs.append(
                pd.DataFrame(
                    {LABELS_KEY: classes[i], SECTION_KEY: str(i)},
                    index=[f"{i}:{o}" for o in ref.obs_names],
                )
            )
        if len({im.shape[1] for im in images}) > 1:
            raise ValueError(
                f"The references' `obsm[{image_key!r}]` differ in width "
                f"({sorted({im.shape[1] for im in images})}); compute them with the same encoder."
            )
        train = AnnData(np.concatenate(blocks), obs=pd.concat(obs), var=pd.DataFrame(index=genes))
        train.obsm[SETS_KEY] = np.concatenate(sets)
        if image_key is not None:
            train.obsm[image_key] = np.concatenate(images)
        cls.setup_anndata(train, image_key=image_key)
        model = cls(train, **model_kwargs)
        model.preprocessing_ = {
            "positive": positive,
            "exclude": list(exclude),
            "spatial_key": spatial_key,
            "layer": layer,
        }
        return model

    @property
    def n_neighbors(self) -> int:
        """Spots per neighbour set."""
        return int(self.adata.obsm[self._setup_args["sets_key"]].shape[1])

    @property
    def image_key(self) -> str | None:
        """``obsm`` key of the image features (``None``: expression alone)."""
        return self._setup_args["image_key"]

    def train(
        self,
        max_epochs: int = 10,
        *,
        align_epochs: int = 10,
        warmup_epochs: int | None = None,
        batch_size: int = 128,
        lr: float = 1e-4,
        weight_decay: float = 0.0,
        plan_kwargs: dict | None = None,
        **kwargs,
    ):
        """Train the two stages: alignment (image mode only), then detection.

        Parameters
        ----------
        max_epochs
            Epochs of the detection stage (10; the paper: 100 at ``lr=1e-5`` with batches of
            512; see Notes).
        align_epochs
            Epochs of the alignment stage (10); ignored with expression alone.
        warmup_epochs
            Epochs at the start of the detection stage that train the fusion loss alone;
            default half of ``max_epochs`` (as the paper's 50 of 100).
        batch_size
            Centre spots per batch (128).
        lr, weight_decay
            Adam settings (1e-4, 0).
        plan_kwargs
            Further arguments of :class:`stmin.train.TrainingPlan`.
        **kwargs
            Further arguments of :meth:`stmin.train.TrainingMixin.train` (``accelerator``,
            ``devices``, ``enable_progress_bar`` …), given to both stages.
        """
        max_epochs = check_int(max_epochs, "max_epochs", min_value=1)
        align_epochs = check_int(align_epochs, "align_epochs", min_value=0)
        warmup_epochs = max_epochs // 2 if warmup_epochs is None else warmup_epochs
        warmup_epochs = check_int(warmup_epochs, "warmup_epochs", min_value=0)
        plan_kwargs = dict(plan_kwargs or {})
        common = {"batch_size": batch_size, "lr": lr, "weight_decay": weight_decay, **kwargs}
        if self.image_key is not None and align_epochs:
            super().train(align_epochs, plan_kwargs={**plan_kwargs, "stage": "align"}, **common)
            self.align_history_ = {k: v.copy() for k, v in self.history.items()}
            self.history_, self.is_trained_ = None, False  # the detection stage's own history
        labelled = np.flatnonzero(self.adata.obs[self._setup_args["labels_key"]].to_numpy() >= 0)
        splitter_kwargs = {"centers": labelled, **(common.pop("datasplitter_kwargs", None) or {})}
        return super().train(
            max_epochs,
            plan_kwargs={**plan_kwargs, "stage": "detect", "warmup_epochs": warmup_epochs},
            datasplitter_kwargs=splitter_kwargs,
            **common,
        )

    # -- scoring ------------------------------------------------------------------------------

    def _section_tensors(
        self, adata: AnnData, layer: str | None, spatial_key: str | None, name: str
    ) -> tuple[dict, np.ndarray]:
        """The tensors and neighbour sets of one target section, prepared as the references."""
        check_adata(adata, name, allow_view=True, unique_vars=True)
        genes = self.adata.var_names
        missing = genes.difference(adata.var_names)
        if len(missing):
            raise ValueError(
                f"`{name}` lacks {len(missing)} of the model's {len(genes)} genes (e.g. "
                f"{list(missing[:5])}); train with `genes=` restricted to the genes it measures."
            )
        prep = getattr(self, "preprocessing_", {})
        layer = prep.get("layer") if layer is None else layer
        spatial_key = spatial_key or prep.get("spatial_key", SPATIAL_KEY)
        counts = section_counts(adata, layer, name)
        tensors = {REGISTRY_KEYS.X_KEY: scaled_expression(counts, adata.var_names, genes)}
        if self.image_key is not None:
            features = scaled_image(adata, self.image_key, name)
            if features.shape[1] != self.adata.obsm[self.image_key].shape[1]:
                raise ValueError(
                    f"`{name}.obsm[{self.image_key!r}]` has {features.shape[1]} features; the "
                    f"model was trained on {self.adata.obsm[self.image_key].shape[1]}. Compute "
                    "them with the same encoder."
                )
            tensors[IMAGE_KEY] = features
        sets = neighbor_sets(adata, spatial_key, self.n_neighbors, name)
        return {k: torch.as_tensor(v) for k, v in tensors.items()}, sets

    @torch.inference_mode()
    def _outputs(self, adata, layer, spatial_key, batch_size: int) -> dict[str, np.ndarray]:
        self._check_if_trained(warn=False)
        check_int(batch_size, "batch_size", min_value=1)
        tensors, sets = self._section_tensors(adata, layer, spatial_key, "adata")
        self.module.eval()
        out: dict[str, list] = {"logit": [], "h": [], "mean": []}
        for batch in neighborhood_batches(tensors, sets, np.arange(len(sets)), batch_size):
            batch = {k: v.to(self.device) for k, v in batch.items()}
            result = self.module.inference(**self.module._get_inference_input(batch))
            for key in out:
                out[key].append(result[key].cpu())
        return {k: torch.cat(v).numpy() for k, v in out.items()}

    @d.dedent
    def get_scores(
        self,
        adata: AnnData,
        *,
        layer: str | None = None,
        spatial_key: str | None = None,
        batch_size: int = 512,
        logits: bool = False,
    ) -> np.ndarray:
        """Cancer probability (or logit) of every spot of a section.

        Parameters
        ----------
        adata
            One section with raw counts of the model's genes, spot coordinates and, in image
            mode, the image features under the references' key.
        layer
            Layer of raw counts; default the references' layer.
        spatial_key
            ``obsm`` key of the spot coordinates; default the references' key.
        batch_size
            Spots per forward pass.
        logits
            Return the discriminator's logits instead of probabilities.
        """
        logit = self._outputs(adata, layer, spatial_key, batch_size)["logit"]
        return logit if logits else 1.0 / (1.0 + np.exp(-logit))

    def get_latent_representation(
        self,
        adata: AnnData,
        *,
        representation: str = "fused",
        layer: str | None = None,
        spatial_key: str | None = None,
        batch_size: int = 512,
    ) -> np.ndarray:
        """The fused representation ``h`` (512-d) or the posterior mean ``μ`` (64-d) of each spot.

        Parameters
        ----------
        adata, layer, spatial_key, batch_size
            See :meth:`get_scores`.
        representation
            ``"fused"`` or ``"mean"``.
        """
        check_choice(representation, "representation", ("fused", "mean"))
        key = "h" if representation == "fused" else "mean"
        return self._outputs(adata, layer, spatial_key, batch_size)[key]
