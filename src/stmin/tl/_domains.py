"""``sm.tl.cluster_domains``: spatial domains from any embedding in ``obsm``."""

from __future__ import annotations

from anndata import AnnData

from .._cluster import (
    ClusterMethod,
    as_categories,
    check_cluster_method,
    cluster_embedding,
    refine_labels,
)
from .._constants import SPATIAL_KEY, ToolKey
from .._docs import d
from .._random import check_random_state
from .._validate import (
    check_adata,
    check_bool,
    check_key,
    check_n_clusters,
    check_refine,
    get_rep,
    get_spatial,
)
from .._writer import call_params, write_result


@d.dedent
def cluster_domains(
    adata: AnnData,
    n_clusters: int,
    *,
    use_rep: str,
    cluster_method: ClusterMethod = "gmm",
    refine: int | None = None,
    spatial_key: str = SPATIAL_KEY,
    random_state: int = 0,
    key_added: str = ToolKey.CLUSTER_DOMAINS,
    copy: bool = False,
) -> AnnData | None:
    """Cluster an embedding in ``obsm`` into spatial domains, optionally refined spatially.

    Parameters
    ----------
    adata
        Annotated data.
    %(n_clusters)s
    use_rep
        ``obsm`` key of the embedding (e.g. ``"X_stmgac"``).
    %(cluster_method)s
    %(refine)s
    %(spatial_key)s
        Used by ``refine``.
    random_state
        Seed of the clustering.
    %(key_added)s
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes

    - ``obs[key_added]``: domain labels (categorical),
    - ``uns[key_added]``: ``params`` and ``stmin_version``.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    n_clusters = check_n_clusters(n_clusters, adata.n_obs)
    check_cluster_method(cluster_method, "cluster_method")
    refine = check_refine(refine, adata.n_obs)
    random_state = check_random_state(random_state) or 0
    x = get_rep(adata, use_rep)
    coords = get_spatial(adata, spatial_key) if refine else None
    labels = cluster_embedding(x, n_clusters, method=cluster_method, random_state=random_state)
    if refine:
        labels = refine_labels(labels, coords, refine)
    adata = adata.copy() if copy else adata
    write_result(adata, key_added, params, obs={key_added: as_categories(labels)})
    return adata if copy else None
