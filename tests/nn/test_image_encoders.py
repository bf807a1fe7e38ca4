import pytest
import torch

from stmin.nn._densenet import DenseNet121
from stmin.nn._he_stats import HEStats
from stmin.nn._image_encoders import image_encoder


def test_densenet_has_torchvision_shape():
    net = DenseNet121()
    # torchvision's densenet121 without its 1,024 × 1,000 classifier
    assert sum(p.numel() for p in net.parameters()) == 7_978_856 - 1_025_000
    assert net(torch.rand(2, 3, 64, 64)).shape == (2, 1024)


def test_densenet_loads_torchvision_state_dicts(tmp_path):
    torch.manual_seed(0)
    source = DenseNet121()
    state = dict(source.state_dict())
    state["classifier.weight"] = torch.zeros(1000, 1024)
    state["classifier.bias"] = torch.zeros(1000)
    # the pre-0.3 torchvision layout, "norm.1" for "norm1"
    old = "features.denseblock1.denselayer1.norm1.weight"
    state[old.replace("norm1", "norm.1")] = state.pop(old)
    path = tmp_path / "densenet121.pth"
    torch.save(state, path)
    loaded = DenseNet121(weights_path=path).eval()
    x = torch.rand(2, 3, 64, 64)
    assert torch.allclose(loaded(x), source.eval()(x))


def test_densenet_rejects_other_weights(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(ValueError, match="not a DenseNet-121 state dict"):
        DenseNet121(weights_path=path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        DenseNet121(weights_path=tmp_path / "missing.pth")


def test_stats_are_invariant_to_flips_and_see_stain():
    torch.manual_seed(0)
    x = torch.rand(3, 3, 32, 32)
    stats = HEStats()
    f = stats(x)
    assert f.shape == (3, HEStats.out_dim) and torch.isfinite(f).all()
    assert torch.allclose(f, stats(x.flip(-1)), atol=1e-5)
    pale, dark = torch.full((1, 3, 32, 32), 0.9), torch.full((1, 3, 32, 32), 0.3)
    assert not torch.allclose(stats(pale), stats(dark))


def test_image_encoder_interface():
    assert isinstance(image_encoder("stats"), HEStats)
    with pytest.raises(ValueError, match="no weights"):
        image_encoder("stats", weights_path="x.pth")
    with pytest.raises(ValueError, match="out_dim"):
        image_encoder(torch.nn.Linear(2, 2))
