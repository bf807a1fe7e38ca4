"""Shared docstring pieces: every parameter that several functions share is written once here.

Use ``@d.dedent`` on a function and ``%(name)s`` in its docstring (docrep, as scvi-tools and
squidpy do).
"""

from docrep import DocstringProcessor

# -- AnnData in and out ------------------------------------------------------------------------

_copy = """\
copy
    Return a modified copy instead of writing into ``adata``; the object passed is then left
    untouched."""

_returns_copy = """\
``None``, or the modified copy with ``copy=True``."""

_key_added = """\
key_added
    Stem of the keys written (listed under Returns); default: the function's name."""

_layer = """\
layer
    Layer holding the raw counts; ``None`` uses ``.X``."""

_use_rep = """\
use_rep
    ``obsm`` key of a representation used as the model input instead of the method's own
    preprocessing of the counts (e.g. ``"X_pca"``)."""

_connectivity_key = """\
connectivity_key
    ``obsp`` key of the spatial graph (:func:`stmin.pp.spatial_graph` or
    ``squidpy.gr.spatial_neighbors``)."""

_spatial_key = """\
spatial_key
    ``obsm`` key of the spot coordinates."""

_batch_key = """\
batch_key
    ``obs`` column naming each spot's slice (e.g. the one written by
    :func:`stmin.pp.concat_slices`)."""

_library_id = """\
library_id
    Library in ``uns["spatial"]`` (Visium layout); needed only when there are several."""

# -- clustering --------------------------------------------------------------------------------

_n_clusters = """\
n_clusters
    Number of domains (clusters)."""

_cluster_method = """\
cluster_method
    How the embedding is clustered: ``"gmm"`` (Gaussian mixture with one covariance shared by
    all components, the analogue of mclust's EEE model used by most spatial-domain papers),
    ``"kmeans"`` or ``"leiden"`` (resolution searched to give ``n_clusters``)."""

_refine = """\
refine
    Relabel each spot with the most frequent label among its ``refine`` nearest spots (of the
    same slice); ``None`` or 0 skips it."""

# -- training ----------------------------------------------------------------------------------

_max_epochs = """\
max_epochs
    Training epochs (default: the paper's)."""

_accelerator = """\
accelerator, devices
    Passed to Lightning: ``"cpu"``, ``"gpu"`` or ``"auto"``; device ids or a device count."""

_random_state = """\
random_state
    Seed of the whole call (initialisation, masking, mini-batches, clustering); ``None`` leaves
    it unseeded. The global generators of Python, NumPy and PyTorch are restored afterwards;
    see :class:`stmin.Settings` for what makes runs reproducible."""

_model_kwargs = """\
model_kwargs
    Further arguments of the model class."""

_train_kwargs = """\
train_kwargs
    Further arguments of the model's ``train`` (e.g. ``lr``, ``enable_progress_bar=False``)."""

_plan_kwargs = """\
plan_kwargs
    Further arguments of the training plan (e.g. ``optimizer``)."""

_datasplitter_kwargs = """\
datasplitter_kwargs
    Further arguments of the data splitter."""

_trainer_kwargs = """\
**trainer_kwargs
    Further arguments of :class:`scvi.train.Trainer`, i.e. of Lightning's ``Trainer`` (e.g.
    ``enable_progress_bar``, ``callbacks``)."""

_early_stopping = """\
early_stopping
    Stop when the training loss has not improved by ``early_stopping_min_delta`` for
    ``early_stopping_patience`` epochs.
early_stopping_patience, early_stopping_min_delta
    Early-stopping settings."""

# -- model classes -----------------------------------------------------------------------------

_getter_adata = """\
adata
    AnnData set up like the training data (:meth:`setup_anndata`); default: the training
    data."""

_setup_layer = """\
layer
    Layer used as the model input when ``use_rep`` is ``None`` (``None``: ``.X``)."""

_setup_use_rep = """\
use_rep
    ``obsm`` key of the model input (see the default); ``None`` uses ``.X`` or ``layer``."""

# -- plots -------------------------------------------------------------------------------------

_show_save = """\
show
    Show the figure; default: when not saving, in interactive sessions.
save
    Write the figure to this path."""

_returns_figure = """\
The :class:`~matplotlib.figure.Figure`, unless it was shown."""

_image_spots = """\
library_id
    Library in ``uns["spatial"]``; needed only when there are several.
img_key
    ``"hires"`` or ``"lowres"``; default: the best one available.
spatial_key
    ``obsm`` key of the coordinates (full-resolution pixels when an image is shown).
spot_scale
    Multiplier of the spot diameter (from the scale factors, else the grid pitch).
show_image
    Draw the tissue image under the spots."""

d = DocstringProcessor(
    copy=_copy,
    returns_copy=_returns_copy,
    key_added=_key_added,
    layer=_layer,
    use_rep=_use_rep,
    connectivity_key=_connectivity_key,
    spatial_key=_spatial_key,
    batch_key=_batch_key,
    library_id=_library_id,
    n_clusters=_n_clusters,
    cluster_method=_cluster_method,
    refine=_refine,
    max_epochs=_max_epochs,
    accelerator=_accelerator,
    random_state=_random_state,
    model_kwargs=_model_kwargs,
    train_kwargs=_train_kwargs,
    plan_kwargs=_plan_kwargs,
    datasplitter_kwargs=_datasplitter_kwargs,
    trainer_kwargs=_trainer_kwargs,
    early_stopping=_early_stopping,
    getter_adata=_getter_adata,
    setup_layer=_setup_layer,
    setup_use_rep=_setup_use_rep,
    show_save=_show_save,
    returns_figure=_returns_figure,
    image_spots=_image_spots,
)
"""The docstring processor of stmin."""
