"""Every AnnData key stmin reads or writes by default, in one place.

squidpy's names where squidpy has one. The naming rule (``docs/design.md``): ``key_added`` is
always a stem; an ``sm.tl`` function's default stem is its own name; an ``sm.pp`` function's
default stem names what it makes (as ``sc.pp.pca`` → ``"pca"``). From a stem ``k``:
an embedding goes to ``obsm[f"X_{k}"]``, per-observation labels to ``obs[k]``, a per-observation
table (proportions, predictions) to ``obsm[k]``, secondary outputs to ``<slot>[f"{k}_<what>"]``
and the record of the call to ``uns[k]``.
"""

# -- inputs stmin reads by default -------------------------------------------------------------

SPATIAL_KEY = "spatial"
"""``obsm`` key of spot coordinates and ``uns`` key of the Visium image layout."""

SPATIAL_GRAPH_STEM = "spatial"
"""Default stem of :func:`stmin.pp.spatial_graph` (squidpy's)."""

CELL_GRAPH_STEM = "cell"
"""Default stem of :func:`stmin.pp.cell_graph`."""

SIZE_FACTORS_KEY = "size_factors"
"""``obs`` column of per-cell size factors (:func:`stmin.pp.scasdc_preprocess`)."""

HE_PATCHES_KEY = "he_patches"
"""``obsm`` key of the H&E patches (:func:`stmin.pp.he_patches`)."""

STMGAC_INPUT_STEM = "stmgac_input"
"""Default stem of :func:`stmin.pp.stmgac_preprocess` (``obsm["X_stmgac_input"]``)."""

STG3NET_INPUT_STEM = "stg3net_input"
"""Stem of the STMGAC preprocessing run on concatenated slices, read by STG3Net."""

PROPORTIONS_KEY = "proportions"
"""``obsm`` key of known cell-type proportions of pseudo-spots (:func:`stmin.pp.pseudo_spots`)."""

PSEUDO_SPOTS_KEY = "pseudo_spots"
"""``uns`` key of the simulation parameters of :func:`stmin.pp.pseudo_spots`."""

DOMAIN_KEY = "domain"
"""``obs`` column of MACD's training data: ``"simulated"`` or ``"real"``."""

SECTION_KEY = "section"
"""``obs`` column naming the reference section of each training spot (H&E models)."""

ARRAY_COORDS_KEYS = (("array_x", "array_y"), ("array_row", "array_col"))
"""``obs`` column pairs looked for as integer array (grid) coordinates, in this order."""

# -- default stems of the sm.tl functions (= their names) --------------------------------------


class ToolKey:
    """Default ``key_added`` stems of the ``sm.tl`` functions: each function's own name."""

    STMGAC = "stmgac"
    STG3NET = "stg3net"
    SCASDC_CLUSTER = "scasdc_cluster"
    MACD_DECONVOLVE = "macd_deconvolve"
    PREDICT_FROM_HE = "predict_from_he"
    # the one exception: the score and call columns are read as SpaCRD's (``obs["spacrd"]``)
    DETECT_CANCER_REGIONS = "spacrd"
    CLUSTER_DOMAINS = "cluster_domains"
    SPARSE_NMF = "sparse_nmf"
    GRAPH_SPARSE_NMF = "graph_sparse_nmf"
    SPARSE_SVD = "sparse_svd"
    GROUP_SPARSE_SVD = "group_sparse_svd"
    WSPLS = "wspls"
    SWCCA = "swcca"
    NETWORK_LOGREG = "network_logreg"
    MULTILINEAR_LOGREG = "multilinear_logreg"


# -- keys derived from a stem -----------------------------------------------------------------


def embedding_key(stem: str) -> str:
    """``obsm`` key of an embedding: ``X_<stem>``, so that ``sc.pl.embedding(basis=stem)`` works."""
    return f"X_{stem}"


def connectivities_key(stem: str = SPATIAL_GRAPH_STEM) -> str:
    """``obsp`` key of the binary adjacency of a graph with this stem."""
    return f"{stem}_connectivities"


def distances_key(stem: str = SPATIAL_GRAPH_STEM) -> str:
    """``obsp`` key of the edge lengths of a graph with this stem."""
    return f"{stem}_distances"


def neighbors_key(stem: str = SPATIAL_GRAPH_STEM) -> str:
    """``uns`` key of the parameters of a graph with this stem."""
    return f"{stem}_neighbors"


def he_features_stem(encoder: str) -> str:
    """Default stem of :func:`stmin.pp.he_features` for an encoder name (``X_he_<encoder>``)."""
    return f"he_{encoder}"


CONNECTIVITIES_KEY = connectivities_key()
DISTANCES_KEY = distances_key()
NEIGHBORS_KEY = neighbors_key()
CELL_CONNECTIVITIES_KEY = connectivities_key(CELL_GRAPH_STEM)
STMGAC_INPUT_KEY = embedding_key(STMGAC_INPUT_STEM)
STG3NET_INPUT_KEY = embedding_key(STG3NET_INPUT_STEM)
