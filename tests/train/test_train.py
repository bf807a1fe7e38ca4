"""The shared training layer: one train(), pluggable splitters, plan stages, history."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from scvi import REGISTRY_KEYS
from scvi.module.base import BaseModuleClass, LossOutput

import stmin as sm
from stmin.train import (
    FullDataSplitter,
    MiniBatchDataSplitter,
    TrainingPlan,
    loss_history,
    whole_graph,
)

QUIET = {"accelerator": "cpu", "enable_progress_bar": False}


def _model(adata, **kwargs):
    sm.model.STMGAC.setup_anndata(adata)
    return sm.model.STMGAC(adata, n_clusters=5, t_step=1, **kwargs)


def test_history_holds_the_module_terms_per_epoch(stmgac_section):
    model = _model(stmgac_section)
    model.train(max_epochs=3, **QUIET)
    curves = loss_history(model.history)
    assert set(curves) == {
        "train_loss",
        "sce_loss_train",
        "latent_loss_train",
        "triplet_loss_train",
    }
    assert all(len(v) == 3 and np.isfinite(v).all() for v in curves.values())


def test_loss_history_drops_elbo_bookkeeping():
    history = {
        "elbo_train": pd.DataFrame({"elbo_train": [1.0, 2.0]}),
        "kl_local_train": pd.DataFrame({"x": [0.0, 0.0]}),
        "reconstruction_loss_train": pd.DataFrame({"x": [0.0, 0.0]}),
        "train_loss": pd.DataFrame({"train_loss": [3.0, 2.0]}),
        "mse_loss_train": np.array([1.0, 0.5]),
    }
    curves = loss_history(history)
    assert set(curves) == {"train_loss", "mse_loss_train"}
    np.testing.assert_array_equal(curves["train_loss"], [3.0, 2.0])
    assert curves["mse_loss_train"].dtype == float


def test_early_stopping_stops_when_the_loss_stalls(stmgac_section):
    model = _model(stmgac_section)
    # no epoch can improve by 1e9, so training stops after `patience` epochs without progress
    model.train(
        max_epochs=200,
        early_stopping=True,
        early_stopping_patience=3,
        early_stopping_min_delta=1e9,
        **QUIET,
    )
    assert len(model.history["train_loss"]) == 4


def test_without_early_stopping_every_epoch_runs(stmgac_section):
    model = _model(stmgac_section)
    model.train(max_epochs=6, **QUIET)
    assert len(model.history["train_loss"]) == 6


class _CountingSplitter(FullDataSplitter):
    made = 0

    def __init__(self, *args, **kwargs):
        type(self).made += 1
        super().__init__(*args, **kwargs)


def test_the_data_splitter_is_a_class_attribute(stmgac_section):
    class Counted(sm.model.STMGAC):
        _data_splitter_cls = _CountingSplitter

    Counted.setup_anndata(stmgac_section)
    model = Counted(stmgac_section, n_clusters=5)
    model.train(max_epochs=1, **QUIET)
    assert _CountingSplitter.made == 1 and model.is_trained


def test_full_splitter_keeps_adata_order(stmgac_section):
    model = _model(stmgac_section)
    splitter = FullDataSplitter(model.adata_manager, batch_size=None, accelerator="cpu")
    splitter.setup()
    (batch,) = list(splitter.train_dataloader())
    np.testing.assert_allclose(
        batch[REGISTRY_KEYS.X_KEY].numpy(), stmgac_section.obsm["X_stmgac_input"], rtol=1e-6
    )


def test_minibatch_splitter_gives_shuffled_batches(stmgac_section):
    model = _model(stmgac_section)
    splitter = MiniBatchDataSplitter(model.adata_manager, batch_size=32)
    splitter.setup()
    batches = list(splitter.train_dataloader())
    sizes = [b[REGISTRY_KEYS.X_KEY].shape[0] for b in batches]
    assert sum(sizes) == stmgac_section.n_obs and max(sizes) == 32
    first = batches[0][REGISTRY_KEYS.X_KEY].numpy()
    assert not np.allclose(first, stmgac_section.obsm["X_stmgac_input"][:32])


def test_whole_graph_models_refuse_minibatches(stmgac_section):
    model = _model(stmgac_section)
    with pytest.raises(ValueError, match="batch_size=None"):
        model.train(max_epochs=1, batch_size=16, **QUIET)
    with pytest.raises(ValueError, match="whole graph"):
        whole_graph(torch.zeros(3, 2), 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"max_epochs": 1.5}, "max_epochs"),
        ({"max_epochs": True}, "max_epochs"),
        ({"max_epochs": "10"}, "max_epochs"),
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"gradient_clip_val": 0}, "gradient_clip_val"),
        ({"accelerator": "gpuu"}, "accelerator"),
        ({"devices": 0}, "devices"),
        ({"devices": "two"}, "devices"),
        ({"early_stopping": True, "early_stopping_patience": 0}, "early_stopping_patience"),
    ],
)
def test_train_arguments_are_checked_before_training(stmgac_section, kwargs, match):
    model = _model(stmgac_section)
    args = {"max_epochs": 1, **QUIET, **kwargs}
    with pytest.raises(ValueError, match=match):
        model.train(**args)
    assert not model.is_trained


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
def test_gpu_without_cuda_is_a_clear_error(stmgac_section):
    model = _model(stmgac_section)
    with pytest.raises(ValueError, match="no CUDA device"):
        model.train(max_epochs=1, accelerator="gpu", enable_progress_bar=False)


def test_numpy_integers_are_accepted(stmgac_section):
    model = _model(stmgac_section)
    model.train(max_epochs=np.int64(2), **QUIET)
    assert len(model.history["train_loss"]) == 2


class _StageModule(BaseModuleClass):
    """Records the stage its three steps receive."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.seen = []

    def _get_inference_input(self, tensors):
        return {"x": tensors[REGISTRY_KEYS.X_KEY]}

    def _get_generative_input(self, tensors, inference_outputs):
        return {}

    def inference(self, x, stage=None):
        self.seen.append(("inference", stage))
        return {"z": x.sum(1) * self.w}

    def generative(self, stage=None):
        self.seen.append(("generative", stage))
        return {}

    def loss(self, tensors, inference_outputs, generative_outputs, stage=None):
        self.seen.append(("loss", stage))
        value = inference_outputs["z"].pow(2).mean()
        return LossOutput(loss=value, n_obs_minibatch=4, extra_metrics={"value": value.detach()})


def test_plan_passes_the_stage_to_the_module():
    module = _StageModule()
    plan = TrainingPlan(module, stage="pretrain")
    batch = {REGISTRY_KEYS.X_KEY: torch.ones(4, 3)}
    plan.forward(batch, loss_kwargs={})
    assert module.seen == [
        ("inference", "pretrain"),
        ("generative", "pretrain"),
        ("loss", "pretrain"),
    ]
    module.seen.clear()
    TrainingPlan(module).forward(batch, loss_kwargs={})
    assert module.seen == [("inference", None), ("generative", None), ("loss", None)]


def test_plan_uses_pytorch_adam_defaults():
    plan = TrainingPlan(_StageModule(), lr=0.01)
    optimizer = plan.configure_optimizers()["optimizer"]
    assert isinstance(optimizer, torch.optim.Adam)
    assert optimizer.defaults["eps"] == 1e-8 and optimizer.defaults["lr"] == 0.01


class _Threads(Callback):
    def __init__(self):
        self.seen = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.append(torch.get_num_threads())


def test_training_uses_the_thread_setting_and_restores_it(stmgac_section):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = _model(stmgac_section)
        probe = _Threads()
        model.train(max_epochs=2, callbacks=[probe], **QUIET)
        assert probe.seen == [sm.settings.n_jobs] * 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_setup_and_load_are_quiet(stmgac_section, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        model = _model(stmgac_section)
        model.train(max_epochs=1, **QUIET)
        model.save(tmp_path / "m")
        sm.model.STMGAC.load(tmp_path / "m", stmgac_section)
        sm.settings.seed = 0
    chatter = [r.getMessage() for r in caplog.records if r.name.startswith(("scvi", "lightning"))]
    assert not chatter, chatter


def test_lightning_start_up_chatter_is_silenced(stmgac_section, caplog):
    model = _model(stmgac_section)
    with caplog.at_level(logging.INFO):
        model.train(max_epochs=1, **QUIET)
    chatter = [r.getMessage() for r in caplog.records if r.name.startswith("lightning")]
    assert not any("GPU available" in m or "Tip" in m for m in chatter), chatter
