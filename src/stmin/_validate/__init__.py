"""Input checks that run before any tensor is built.

Every check raises :class:`KeyError` or :class:`ValueError` with a message that names the
offending key or argument and says how to fix it.
"""

from ._anndata import (
    check_adata,
    check_batches,
    check_n_clusters,
    check_n_neighbors,
    check_refine,
    get_graph,
    get_layer,
    get_library,
    get_library_part,
    get_matrix,
    get_obs,
    get_rep,
    get_scalefactor,
    get_spatial,
    where,
)
from ._arrays import as_coords, as_labels, as_matrix, as_rgb
from ._files import as_path, check_input_file, check_input_folder, check_output_file
from ._values import (
    check_bool,
    check_choice,
    check_counts,
    check_finite,
    check_int,
    check_key,
    check_keys,
    check_kwargs,
    check_masking,
    check_number,
    check_optional_int,
    check_weights,
    is_int,
)

__all__ = [
    "as_coords",
    "as_labels",
    "as_matrix",
    "as_path",
    "as_rgb",
    "check_adata",
    "check_batches",
    "check_bool",
    "check_choice",
    "check_counts",
    "check_finite",
    "check_input_file",
    "check_input_folder",
    "check_int",
    "check_key",
    "check_keys",
    "check_kwargs",
    "check_masking",
    "check_n_clusters",
    "check_n_neighbors",
    "check_number",
    "check_optional_int",
    "check_output_file",
    "check_refine",
    "check_weights",
    "get_graph",
    "get_layer",
    "get_library",
    "get_library_part",
    "get_matrix",
    "get_obs",
    "get_rep",
    "get_scalefactor",
    "get_spatial",
    "is_int",
    "where",
]
