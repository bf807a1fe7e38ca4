import numpy as np
import pytest
import torch

import stmin as sm


def test_patches_are_centred_on_the_spots(he_section, tmp_path):
    adata = he_section()
    sm.pp.he_patches(adata, size=16)
    patches = adata.obsm["he_patches"]
    assert patches.shape == (adata.n_obs, 16, 16, 3) and patches.dtype == np.uint8
    x, y = adata.obsm["spatial"].astype(int).T
    # the image encodes x in red and y in green: the patch centre is the spot's own pixel
    assert np.array_equal(patches[:, 8, 8, 0], x % 256)
    assert np.array_equal(patches[:, 8, 8, 1], y % 256)
    assert adata.uns["he_patches"]["params"]["image_key"] == "fullres"


def test_hires_patches_follow_the_scale_factor(he_section, tmp_path):
    adata = he_section()
    sm.pp.he_patches(adata, size=16, image_key="hires", patch_fullres=32, key_added="p")
    full = adata.copy()
    sm.pp.he_patches(full, size=16, patch_fullres=32, key_added="p")
    diff = np.abs(adata.obsm["p"].astype(int) - full.obsm["p"].astype(int))
    assert np.median(diff) <= 4  # same tissue, read from the half-size image


def test_patches_over_the_border_are_padded_white(he_section, tmp_path):
    adata = he_section()
    adata.obsm["spatial"][0] = [2.0, 2.0]
    sm.pp.he_patches(adata, size=16)
    assert (adata.obsm["he_patches"][0, 0, 0] == 255).all()


def test_patch_errors(he_section, tmp_path):
    adata = he_section()
    bad = adata.copy()
    bad.obsm["spatial"][3] = [500.0, 10.0]
    with pytest.raises(ValueError, match="outside the 240 × 240 image"):
        sm.pp.he_patches(bad)
    no_image = adata.copy()
    del no_image.uns["spatial"]
    with pytest.raises(KeyError, match="uns\\['spatial'\\]"):
        sm.pp.he_patches(no_image)
    gone = adata.copy()
    gone.uns["spatial"]["s1"]["metadata"]["image_path"] = str(tmp_path / "missing.png")
    with pytest.raises(FileNotFoundError, match="image_key='hires'"):
        sm.pp.he_patches(gone)
    no_scale = adata.copy()
    del no_scale.uns["spatial"]["s1"]["scalefactors"]["tissue_hires_scalef"]
    with pytest.raises(KeyError, match="tissue_hires_scalef"):
        sm.pp.he_patches(no_scale, image_key="hires")
    no_coords = adata.copy()
    del no_coords.obsm["spatial"]
    with pytest.raises(KeyError, match="spatial"):
        sm.pp.he_patches(no_coords)


@pytest.mark.parametrize("encoder", ["stats", "densenet121"])
def test_he_features(he_section, tmp_path, encoder):
    adata = he_section(n_side=3)
    sm.pp.he_patches(adata, size=32)
    torch.manual_seed(0)
    sm.pp.he_features(adata, encoder)
    features = adata.obsm[f"X_he_{encoder}"]
    assert features.shape[0] == adata.n_obs and np.isfinite(features).all()
    assert features.std(0).max() > 0  # spots over different tissue differ


def test_he_features_needs_patches(he_section, tmp_path):
    adata = he_section(n_side=2)
    with pytest.raises(KeyError, match=r"sm\.pp\.he_patches"):
        sm.pp.he_features(adata)
    adata.obsm["he_patches"] = np.zeros((adata.n_obs, 8, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match="uint8 RGB patches"):
        sm.pp.he_features(adata)
    adata.obsm["he_patches"] = np.zeros((adata.n_obs, 8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="Unknown image encoder"):
        sm.pp.he_features(adata, "vit")
