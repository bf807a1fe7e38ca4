"""Bad input to sm.metrics and the array-level helpers (refine_labels, cluster_embedding)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

N = 60
RNG = np.random.default_rng(0)
LABELS = np.array(["a", "b", "c"])[np.arange(N) % 3]
COORDS = RNG.uniform(size=(N, 2))
EMBEDDING = RNG.normal(size=(N, 4))
BATCH = np.array(["s1", "s2"])[np.arange(N) % 2]


def _nan_row(x):
    x = np.array(x, dtype=float)
    x[0, 0] = np.nan
    return x


# the spatial scores and refinement take (labels, coordinates)
SPATIAL = {
    "chaos": sm.metrics.chaos,
    "pas": sm.metrics.pas,
    "refine_labels": lambda labels, coords: sm.tl.refine_labels(labels, coords, 5),
}
ON_COORDS = pytest.mark.parametrize("score", SPATIAL.values(), ids=SPATIAL.keys())


@ON_COORDS
@pytest.mark.parametrize(
    ("labels", "coords", "match"),
    [
        (LABELS[:-1], COORDS, "`coords` has 60 rows but `labels` has 59"),
        (LABELS, COORDS[:-1], "`coords` has 59 rows but `labels` has 60"),
        (LABELS, _nan_row(COORDS), "`coords` contains 1 NaN"),
        (LABELS, np.where(np.eye(N, 2, dtype=bool), np.inf, COORDS), "NaN or infinite"),
        (np.r_[LABELS[:-1].astype(object), [np.nan]], COORDS, "`labels` has 1 missing"),
        (np.r_[LABELS[:-1].astype(object), [None]], COORDS, "`labels` has 1 missing"),
        (LABELS, COORDS[:, 0], "`coords` must be 2-D"),
        (LABELS, COORDS[None], "`coords` must be 2-D"),
        (LABELS, np.c_[COORDS, COORDS], "`coords` must have 2 or 3 columns"),
        (np.c_[LABELS, LABELS], COORDS, "`labels` must be 1-D"),
        (LABELS, np.full((N, 2), "x"), "`coords` must be a numeric"),
        ([], np.zeros((0, 2)), "`labels` is empty"),
    ],
    ids=[
        "short-labels",
        "short-coords",
        "nan-coords",
        "inf-coords",
        "nan-label",
        "none-label",
        "1-D-coords",
        "3-D-coords",
        "4-columns",
        "2-D-labels",
        "string-coords",
        "empty",
    ],
)
def test_labels_and_coordinates(score, labels, coords, match):
    with pytest.raises(ValueError, match=match):
        score(labels, coords)


@ON_COORDS
def test_matrix_and_sparse_inputs_are_accepted(score):
    expected = score(LABELS, COORDS)
    for labels, coords in [
        (np.asmatrix(LABELS), COORDS),
        (LABELS, np.asmatrix(COORDS)),
        (LABELS, sp.csr_matrix(COORDS)),
        (pd.Series(LABELS, index=np.arange(N) + 7), pd.DataFrame(COORDS)),
    ]:
        np.testing.assert_array_equal(score(labels, coords), expected)


@ON_COORDS
def test_inputs_are_not_modified(score):
    labels, coords = LABELS.copy(), COORDS.copy()
    score(labels, coords)
    assert np.array_equal(labels, LABELS) and np.array_equal(coords, COORDS)


@pytest.mark.parametrize("score", [sm.metrics.chaos, sm.metrics.pas])
def test_a_single_spot(score):
    with pytest.raises(ValueError, match="at least 2"):
        score(LABELS[:1], COORDS[:1])


@pytest.mark.parametrize("n_neighbors", [0, -1, 1.5, "x", True, None])
def test_neighbour_counts(n_neighbors):
    with pytest.raises(ValueError, match="n_neighbors"):
        sm.metrics.pas(LABELS, COORDS, n_neighbors=n_neighbors)
    with pytest.raises(ValueError, match="n_neighbors"):
        sm.tl.refine_labels(LABELS, COORDS, n_neighbors)
    assert 0 <= sm.metrics.pas(LABELS, COORDS, n_neighbors=np.int64(3)) <= 1


def test_refine_labels_groups():
    with pytest.raises(ValueError, match="`groups` has 59 entries but `labels` has 60"):
        sm.tl.refine_labels(LABELS, COORDS, 5, groups=BATCH[:-1])
    with pytest.raises(ValueError, match="`groups` has 1 missing"):
        sm.tl.refine_labels(LABELS, COORDS, 5, groups=np.r_[BATCH[:-1].astype(object), [None]])
    with pytest.raises(ValueError, match="Section 'lonely' of `groups` has 1 spots"):
        sm.tl.refine_labels(LABELS, COORDS, 5, groups=np.r_[["lonely"], BATCH[1:]])
    with pytest.raises(ValueError, match="n_neighbors"):
        sm.tl.refine_labels(LABELS, COORDS, 10**6)


# -- clustering an embedding ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (EMBEDDING[:, 0], "`x` must be 2-D"),
        (EMBEDDING[None], "`x` must be 2-D"),
        (_nan_row(EMBEDDING), "`x` contains 1 NaN"),
        ("abc", "`x` must be a numeric"),
        (np.zeros((N, 4)), "distinct rows"),
    ],
    ids=["1-D", "3-D", "nan", "string", "constant"],
)
def test_cluster_embedding_input(x, match):
    with pytest.raises(ValueError, match=match):
        sm.tl.cluster_embedding(x, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"n_clusters": v}, "n_clusters") for v in (0, 1, -1, 1.5, "x", True, None, 10**6)],
        *[({"random_state": v}, "random_state") for v in ("abc", [1, 2], -1, 1.5, True)],
        ({"method": "gmmm"}, "method"),
    ],
)
def test_cluster_embedding_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sm.tl.cluster_embedding(EMBEDDING, **{"n_clusters": 3, **kwargs})


def test_cluster_embedding_accepts_matrix_and_numpy_integers():
    labels = sm.tl.cluster_embedding(np.asmatrix(EMBEDDING), np.int64(3), method="kmeans")
    assert labels.shape == (N,) and set(labels) == {0, 1, 2}


# -- agreement with reference labels -----------------------------------------------------------


@pytest.mark.parametrize("score", [sm.metrics.ari, sm.metrics.nmi], ids=["ari", "nmi"])
@pytest.mark.parametrize(
    ("truth", "pred", "match"),
    [
        (LABELS, LABELS[:-1], "`labels_pred` has 59 entries but `labels_true` has 60"),
        (np.c_[LABELS, LABELS], LABELS, "`labels_true` must be 1-D"),
        ("a", "a", "`labels_true` must be 1-D"),
        (sp.csr_matrix(np.ones((1, 3))), [1, 2, 3], "not a sparse matrix"),
        ([np.nan] * 3, [1, 2, 3], "No observation has both"),
    ],
)
def test_agreement_inputs(score, truth, pred, match):
    with pytest.raises(ValueError, match=match):
        score(truth, pred)


@pytest.mark.parametrize("score", [sm.metrics.ari, sm.metrics.nmi], ids=["ari", "nmi"])
def test_agreement_accepts_matrix(score):
    assert score(np.asmatrix(LABELS), np.asmatrix(LABELS)) == pytest.approx(1.0)


# -- batch mixing ----------------------------------------------------------------------------

MIXING = {
    "lisi": lambda e, b: sm.metrics.lisi(e, b),
    "ilisi": lambda e, b: sm.metrics.ilisi(e, b),
    "f1_lisi": lambda e, b: sm.metrics.f1_lisi(e, b, LABELS[: len(b)]),
    "batch_asw": lambda e, b: sm.metrics.batch_asw(e, b, LABELS[: len(b)]),
}


@pytest.mark.parametrize("score", MIXING.values(), ids=MIXING.keys())
@pytest.mark.parametrize(
    ("embedding", "batch", "match"),
    [
        (EMBEDDING, BATCH[:-1], "`batch` has 59 entries but `embedding` has 60"),
        (_nan_row(EMBEDDING), BATCH, "`embedding` contains 1 NaN"),
        (EMBEDDING[:, 0], BATCH, "`embedding` must be 2-D"),
        (np.full((N, 2), "x"), BATCH, "`embedding` must be a numeric"),
        (EMBEDDING, np.r_[BATCH[:-1].astype(object), [None]], "`batch` has 1 missing"),
    ],
)
def test_mixing_inputs(score, embedding, batch, match):
    match = match.replace("`batch`", "`labels`") if score is MIXING["lisi"] else match
    with pytest.raises(ValueError, match=match):
        score(embedding, batch)


def test_mixing_accepts_matrix_sparse_and_frames():
    expected = sm.metrics.ilisi(EMBEDDING, BATCH)
    for embedding in (np.asmatrix(EMBEDDING), sp.csr_matrix(EMBEDDING), pd.DataFrame(EMBEDDING)):
        assert sm.metrics.ilisi(embedding, np.asmatrix(BATCH)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"perplexity": v}, "perplexity") for v in (0, "x", True, np.nan)],
        *[({"n_neighbors": v}, "n_neighbors") for v in (0, 1.5, "x", True)],
        ({"scaled": "x"}, "scaled"),
    ],
)
def test_mixing_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sm.metrics.ilisi(EMBEDDING, BATCH, **kwargs)


# -- expression and deconvolution scores -------------------------------------------------------

TRUTH = RNG.poisson(2.0, (N, 5)).astype(float)
PRED = TRUTH + RNG.normal(size=TRUTH.shape)


@pytest.mark.parametrize(
    "score",
    [sm.metrics.gene_pcc, sm.metrics.expression_scores],
    ids=["gene_pcc", "expression_scores"],
)
@pytest.mark.parametrize(
    ("truth", "pred", "match"),
    [
        (TRUTH, PRED[:-1], r"`truth` \(60, 5\) and `pred` \(59, 5\) differ"),
        (_nan_row(TRUTH), PRED, "`truth` contains 1 NaN"),
        (TRUTH[:, 0], PRED[:, 0], "`truth` must be 2-D"),
        (TRUTH[:1], PRED[:1], "at least 2 rows"),
        (np.full((3, 2), "a"), np.zeros((3, 2)), "`truth` must be a numeric"),
    ],
)
def test_expression_inputs(score, truth, pred, match):
    with pytest.raises(ValueError, match=match):
        score(truth, pred)


def test_expression_frames_are_aligned_by_label():
    truth = pd.DataFrame(TRUTH, columns=list("abcde"))
    pred = pd.DataFrame(PRED, columns=list("abcde"))
    shuffled = pred[list("edcba")].iloc[::-1]
    np.testing.assert_allclose(
        sm.metrics.gene_pcc(truth, shuffled), sm.metrics.gene_pcc(TRUTH, PRED)
    )
    with pytest.raises(ValueError, match="different genes"):
        sm.metrics.gene_pcc(truth, pred.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="different spots"):
        sm.metrics.gene_pcc(truth, pred.set_axis(pred.index + 100))


@pytest.mark.parametrize("n_top", [0, -1, 1.5, "x", True, None])
def test_expression_scores_n_top(n_top):
    with pytest.raises(ValueError, match="n_top"):
        sm.metrics.expression_scores(TRUTH, PRED, n_top=n_top)


def test_gene_pcc_table_needs_frames():
    with pytest.raises(ValueError, match="`truth` must be a spots × genes DataFrame"):
        sm.metrics.gene_pcc_table(TRUTH, PRED)
    frame = pd.DataFrame(TRUTH, columns=list("aabcd"))
    with pytest.raises(ValueError, match="repeated labels"):
        sm.metrics.gene_pcc_table(frame, frame)


PROPS_T = RNG.dirichlet(np.ones(3), N)
PROPS_P = RNG.dirichlet(np.ones(3), N)


@pytest.mark.parametrize(
    ("truth", "pred", "match"),
    [
        (PROPS_T, PROPS_P[:-1], "same shape"),
        (_nan_row(PROPS_T), PROPS_P, "`truth` contains 1 NaN"),
        (-PROPS_T, PROPS_P, "`truth` has negative proportions"),
        (PROPS_T[:, 0], PROPS_P[:, 0], "`truth` must be 2-D"),
        (
            pd.DataFrame(PROPS_T, columns=list("abc")),
            pd.DataFrame(PROPS_P, columns=list("abd")),
            "different cell types",
        ),
        (
            pd.DataFrame(PROPS_T, columns=list("abc")),
            pd.DataFrame(PROPS_P, columns=list("abc"), index=np.arange(N) + 100),
            "different spots",
        ),
        (
            pd.DataFrame(PROPS_T, columns=list("abc"), index=[0] * N),
            pd.DataFrame(PROPS_P, columns=list("abc"), index=[0] * N),
            "repeated labels",
        ),
    ],
)
def test_deconvolution_inputs(truth, pred, match):
    with pytest.raises(ValueError, match=match):
        sm.metrics.deconvolution_scores(truth, pred)


def test_deconvolution_accepts_matrix():
    expected = sm.metrics.deconvolution_scores(PROPS_T, PROPS_P)
    assert sm.metrics.deconvolution_scores(np.asmatrix(PROPS_T), PROPS_P) == expected


TABLE = pd.DataFrame(
    {"pcc": [0.1, 0.2], "ssim": [0.3, 0.1], "rmse": [1.0, 2.0], "jsd": [0.1, 0.2]},
    index=["m1", "m2"],
)


@pytest.mark.parametrize(
    ("table", "kwargs", "error", "match"),
    [
        (TABLE.to_numpy(), {}, ValueError, "`table` must be a DataFrame"),
        (TABLE.iloc[:0], {}, ValueError, "`table` is empty"),
        (TABLE.assign(pcc=[np.nan, 0.1]), {}, ValueError, r"`table\['pcc'\]` is NaN"),
        (TABLE.assign(pcc=["a", "b"]), {}, ValueError, r"`table\['pcc'\]` must hold numbers"),
        (TABLE, {"metrics": ("foo",)}, KeyError, "foo"),
        (TABLE, {"metrics": []}, ValueError, "metrics"),
        (TABLE.set_axis(["m", "m"]), {}, ValueError, "twice"),
    ],
)
def test_accuracy_score_inputs(table, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.metrics.accuracy_score(table, **kwargs)


# -- all domain scores of an AnnData -------------------------------------------------------------


def test_domain_scores_inputs(grid_adata):
    grid_adata.obs["truth"] = grid_adata.obs["domain"]
    with pytest.raises(TypeError, match="AnnData"):
        sm.metrics.domain_scores(grid_adata.obsm["spatial"], "domain")
    with pytest.raises(ValueError, match="empty"):
        sm.metrics.domain_scores(grid_adata[:0].copy(), "domain")
    with pytest.raises(KeyError, match=r"obs\['nope'\]"):
        sm.metrics.domain_scores(grid_adata, "nope")
    with pytest.raises(KeyError, match=r"obs\['nope'\]"):
        sm.metrics.domain_scores(grid_adata, "domain", "nope")
    with pytest.raises(KeyError, match=r"obsm\['xy'\]"):
        sm.metrics.domain_scores(grid_adata, "domain", spatial_key="xy")
    before = grid_adata.obs.copy()
    scores = sm.metrics.domain_scores(grid_adata[:100], "domain", "truth")  # a view is fine
    assert set(scores) == {"ari", "nmi", "chaos", "pas"}
    grid_adata.obs.loc[grid_adata.obs_names[0], "domain"] = None
    with pytest.raises(ValueError, match=r"`adata.obs\['domain'\]` has 1 missing predictions"):
        sm.metrics.domain_scores(grid_adata, "domain", "truth")
    assert list(grid_adata.obs.columns) == list(before.columns)
