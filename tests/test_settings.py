# ruff: noqa: NPY002 - these tests check that the legacy global NumPy generator is left alone
"""sm.settings: verbosity, seed, threads; seeded calls leave global generators alone."""

import logging
import random

import numpy as np
import pytest
import scvi
import torch
from threadpoolctl import threadpool_limits

import stmin as sm
from stmin._random import check_random_state, seeded


@pytest.fixture
def restore_settings():
    logger = logging.getLogger("stmin")
    level, handlers = logger.level, list(logger.handlers)
    n_jobs, seed = sm.settings.n_jobs, sm.settings._seed
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers
    sm.settings.n_jobs = n_jobs
    sm.settings._seed = seed


def test_import_configures_no_logging():
    logger = logging.getLogger("stmin")
    assert logger.propagate
    # importing adds no handler; only setting the verbosity may
    assert all(not isinstance(h, logging.StreamHandler) for h in logger.handlers) or logger.level


def test_verbosity_sets_the_logger_level(restore_settings, caplog):
    sm.settings.verbosity = "info"
    assert sm.settings.verbosity == "info"
    assert logging.getLogger("stmin").getEffectiveLevel() == logging.INFO
    sm.settings.verbosity = 0
    assert sm.settings.verbosity == "error"
    sm.settings.verbosity = "warning"
    assert sm.settings.verbosity == "warning"
    for bad in ("loud", 7, None, 1.5):
        with pytest.raises(ValueError, match="verbosity"):
            sm.settings.verbosity = bad


def test_info_lists_the_keys_a_tool_adds(restore_settings, small_section, caplog):
    sm.settings.verbosity = "info"
    with caplog.at_level(logging.INFO, logger="stmin"):
        sm.pp.spatial_graph(small_section, n_neighs=6)
    assert "obsp['spatial_connectivities']" in caplog.text
    sm.settings.verbosity = "warning"
    caplog.clear()
    sm.pp.spatial_graph(small_section, n_neighs=6, key_added="again")
    assert "added" not in caplog.text


def test_n_jobs_is_validated(restore_settings):
    sm.settings.n_jobs = 2
    assert sm.settings.resolved_n_jobs() == 2
    sm.settings.n_jobs = -1
    assert sm.settings.resolved_n_jobs() >= 1
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(ValueError, match="n_jobs"):
            sm.settings.n_jobs = bad


def test_threads_block_restores_the_count(restore_settings):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        sm.settings.n_jobs = 1
        with sm.settings.threads():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_global_seed_goes_to_scvi(restore_settings):
    sm.settings.seed = 7
    assert sm.settings.seed == 7 and scvi.settings.seed == 7
    with pytest.raises(ValueError, match="seed"):
        sm.settings.seed = -1


@pytest.mark.parametrize("bad", ["abc", [1, 2], -1, 1.5, True, 2**40, np.float64(3)])
def test_random_state_is_validated(bad):
    with pytest.raises(ValueError, match="random_state"):
        check_random_state(bad)


def test_random_state_accepts_numpy_integers():
    assert check_random_state(np.int64(3)) == 3
    assert check_random_state(None) is None


def test_seeded_block_restores_global_generators():
    np.random.seed(5)
    random.seed(5)
    torch.manual_seed(5)
    expected = (np.random.rand(), random.random(), torch.rand(1).item())
    np.random.seed(5)
    random.seed(5)
    torch.manual_seed(5)
    with seeded(0):
        inside = (np.random.rand(), random.random(), torch.rand(1).item())
    after = (np.random.rand(), random.random(), torch.rand(1).item())
    assert after == expected
    with seeded(0):
        assert (np.random.rand(), random.random(), torch.rand(1).item()) == inside


def test_seeded_tool_leaves_numpy_global_state_alone(small_section):
    sm.pp.spatial_graph(small_section, n_neighs=12)
    np.random.seed(11)
    expected = np.random.rand(3)
    np.random.seed(11)
    sm.tl.stmgac(
        small_section, n_clusters=4, max_epochs=2, train_kwargs={"enable_progress_bar": False}
    )
    np.testing.assert_array_equal(np.random.rand(3), expected)


def test_seeded_tool_ignores_what_ran_before(small_section):
    """Same call, same result, after generators were drawn and threads changed by other code."""
    import scanpy as sc

    sm.pp.spatial_graph(small_section, n_neighs=12)
    kwargs = {
        "n_clusters": 4,
        "max_epochs": 5,
        "copy": True,
        "train_kwargs": {"enable_progress_bar": False},
    }
    first = sm.tl.stmgac(small_section, **kwargs)
    # a scanpy pipeline, random draws and a different thread count in between
    other = small_section.copy()
    sc.pp.normalize_total(other)
    sc.pp.log1p(other)
    sc.pp.highly_variable_genes(other, n_top_genes=200)
    np.random.rand(100)
    torch.rand(100)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with threadpool_limits(limits=2):  # as if OMP_NUM_THREADS were 2
            second = sm.tl.stmgac(small_section, **kwargs)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(first.obsm["X_stmgac"], second.obsm["X_stmgac"])
    assert (first.obs["stmgac"] == second.obs["stmgac"]).all()
