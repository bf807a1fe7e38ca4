"""Public spatial transcriptomics and labelled scRNA-seq data sets as AnnData.

Files are read from the folder given by ``path=`` or the environment variable
``STMIN_DATA_DIR``; without either they are downloaded from their public source into
``pooch.os_cache("stmin")``. :func:`dlpfc_151673` ships with the package and works offline.
"""

from ._bundled import dlpfc_151673
from ._dlpfc import dlpfc
from ._her2st import her2st
from ._mob import mouse_olfactory_bulb
from ._rctd import visium_with_reference
from ._scrna import scrna_clustering
from ._stahl import stahl2016_breast_cancer

__all__ = [
    "dlpfc",
    "dlpfc_151673",
    "her2st",
    "mouse_olfactory_bulb",
    "scrna_clustering",
    "stahl2016_breast_cancer",
    "visium_with_reference",
]
