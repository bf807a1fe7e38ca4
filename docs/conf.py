"""Sphinx configuration of the stmin documentation (builds offline)."""

from importlib.metadata import version as _version

project = "stmin"
author = "stmin developers"
copyright = "2026, stmin developers"
release = _version("stmin")
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": False}
autodoc_mock_imports = []
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_param = True
napoleon_custom_sections = [("Params", "Parameters"), "Returns"]  # Returns as written

myst_enable_extensions = ["colon_fence", "dollarmath"]
nb_execution_mode = "off"
nb_merge_streams = True

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
master_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "generated/*.rst.bak"]

html_theme = "sphinx_book_theme"
html_title = "stmin"
html_theme_options = {
    "repository_url": "https://github.com/stmin-dev/stmin",
    "use_repository_button": True,
}
nitpicky = False
suppress_warnings = ["myst.header"]
