"""What every stmin model class shares: training, and saving and loading with clear errors."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch
from anndata import AnnData
from scvi.data import AnnDataManager
from scvi.model.base import BaseModelClass

from .._settings import quieted
from .._validate import check_adata
from ..train import TrainingMixin

_MODEL_FILE = "model.pt"
_ADATA_FILE = "adata.h5ad"


class ModelBase(TrainingMixin, BaseModelClass):
    """Base of the stmin model classes (scvi-tools' :class:`~scvi.model.base.BaseModelClass`).

    Adds :meth:`~stmin.train.TrainingMixin.train` and wraps ``save``/``load`` so that a missing
    folder, a corrupted file or a missing AnnData ends in an error that says what to do.
    ``_save_anndata`` is the default of ``save(save_anndata=...)``: models trained on data they
    build themselves (``from_reference``) keep it with the weights.
    """

    _save_anndata = False

    @classmethod
    def _register_fields(
        cls, adata: AnnData, fields: list, setup_method_args: dict, **kwargs
    ) -> None:
        """Register ``fields`` of ``adata`` for this class (scvi-tools' notes kept quiet)."""
        manager = AnnDataManager(fields=fields, setup_method_args=setup_method_args)
        with quieted("scvi"):
            manager.register_fields(adata, **kwargs)
        cls.register_manager(manager)

    @property
    def _setup_args(self) -> dict:
        return self.adata_manager.registry["setup_args"]

    def _check_if_trained(self, warn: bool = False, message: str | None = None) -> None:
        """Raise a clear error when a getter is called before :meth:`train`."""
        if not self.is_trained_:
            raise RuntimeError(
                message
                or f"This {type(self).__name__} is not trained yet: call `model.train()` first."
            )

    def _validate_anndata(self, adata: AnnData | None = None, copy_if_view: bool = True):
        """``adata`` (default: the training data), checked and set up like the training data."""
        if adata is not None:
            check_adata(adata, allow_view=True, need_vars=False)
        try:
            with quieted("scvi"):
                return super()._validate_anndata(adata, copy_if_view=copy_if_view)
        except (KeyError, ValueError) as err:
            reason = err.args[0] if err.args else err
            raise type(err)(
                f"`adata` is not set up like the model's training data ({reason}). It needs "
                f"what `setup_anndata` registered: {self._setup_args}."
            ) from None

    def save(
        self,
        dir_path: str | os.PathLike,
        *,
        overwrite: bool = False,
        save_anndata: bool | None = None,
        **kwargs,
    ) -> None:
        """Save the model's weights and settings (and, optionally, its training AnnData).

        Parameters
        ----------
        dir_path
            Folder to write (created).
        overwrite
            Replace a folder that exists.
        save_anndata
            Also write the training AnnData (``adata.h5ad``), so that :meth:`load` needs no
            ``adata``; default: ``True`` for models that build their own training data.
        **kwargs
            Passed to :meth:`scvi.model.base.BaseModelClass.save`.
        """
        if not isinstance(dir_path, str | os.PathLike):
            raise TypeError(f"`dir_path` must be a path (got {type(dir_path).__name__}).")
        if Path(dir_path).exists() and not overwrite:
            raise ValueError(
                f"`{os.fspath(dir_path)}` already exists; pass `overwrite=True` to replace it, or "
                "choose another folder."
            )
        save_anndata = self._save_anndata if save_anndata is None else bool(save_anndata)
        super().save(os.fspath(dir_path), overwrite=overwrite, save_anndata=save_anndata, **kwargs)

    @classmethod
    def load(
        cls,
        dir_path: str | os.PathLike,
        adata: AnnData | None = None,
        *,
        accelerator: str = "auto",
        device: int | str = "auto",
        prefix: str | None = None,
        **kwargs,
    ):
        """Load a model saved with :meth:`save`.

        Parameters
        ----------
        dir_path
            Folder written by :meth:`save`.
        adata
            AnnData set up like the training data (same genes); may be omitted when the model
            was saved with ``save_anndata=True``.
        accelerator, device
            Where to put the model (``"cpu"``, ``"gpu"``, ``"auto"``).
        prefix
            File-name prefix used when saving.
        **kwargs
            Passed to :meth:`scvi.model.base.BaseModelClass.load`.
        """
        if not isinstance(dir_path, str | os.PathLike):
            raise TypeError(f"`dir_path` must be a path (got {type(dir_path).__name__}).")
        folder = Path(dir_path)
        name = cls.__name__
        if not folder.is_dir():
            raise FileNotFoundError(
                f"No saved model at `{os.fspath(dir_path)}`: the folder does not exist. Save one "
                f"with `model.save({os.fspath(dir_path)!r})`."
            )
        model_file = folder / f"{prefix or ''}{_MODEL_FILE}"
        if not model_file.is_file():
            raise FileNotFoundError(
                f"`{model_file}` not found: `{os.fspath(dir_path)}` holds no saved {name} "
                "(`model.save(...)` writes it)."
            )
        try:
            saved = torch.load(model_file, map_location="cpu", weights_only=False)
        except (pickle.UnpicklingError, EOFError, RuntimeError, zipfile.BadZipFile, OSError) as err:
            raise ValueError(
                f"Cannot read `{model_file}`: the file is empty, truncated or corrupted "
                f"({type(err).__name__}). Save the model again."
            ) from err
        if not isinstance(saved, dict) or "model_state_dict" not in saved:
            raise ValueError(f"`{model_file}` is not a model saved by stmin or scvi-tools.")
        saved_name = saved.get("attr_dict", {}).get("registry_", {}).get("model_name")
        if saved_name is not None and saved_name != name:
            raise ValueError(
                f"`{os.fspath(dir_path)}` holds a {saved_name} model; load it with "
                f"`sm.model.{saved_name}.load`."
            )
        if adata is None:
            if not (folder / f"{prefix or ''}{_ADATA_FILE}").is_file():
                raise ValueError(
                    f"`{name}.load` needs `adata`, the AnnData the model was trained on (or one "
                    "set up the same way, with the same genes): this model was saved without "
                    "it. Pass it, or save with `save_anndata=True`."
                )
        else:
            check_adata(adata, allow_view=True, need_vars=False)
        with quieted("scvi"):
            return super().load(
                os.fspath(dir_path),
                adata=adata,
                accelerator=accelerator,
                device=device,
                prefix=prefix,
                **kwargs,
            )
