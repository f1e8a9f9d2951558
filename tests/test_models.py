"""labkit.models : un registre des architectures, des erreurs qui listent ce qui existe."""

import logging

import pytest
import torch
from torch import nn

from labkit import torch as lkt
from labkit.errors import ConfigError, LabkitError, ModelError
from labkit.models import _REGISTRY, available_models, build_model, register


@pytest.fixture
def clean_registry():
    """Les architectures ajoutées par un test sont retirées ensuite."""
    before = {framework: dict(names) for framework, names in _REGISTRY.items()}
    yield
    for framework, names in before.items():
        _REGISTRY[framework].clear()
        _REGISTRY[framework].update(names)


def test_the_torch_builders_are_registered_and_still_callable_directly():
    assert {"mlp", "cnn"} <= set(available_models())
    assert _REGISTRY["torch"]["mlp"] is lkt.make_mlp and _REGISTRY["torch"]["cnn"] is lkt.make_cnn
    torch.manual_seed(0)
    built = build_model("cnn", width=4, depth=2)
    torch.manual_seed(0)
    direct = lkt.make_cnn(width=4, depth=2)
    x = torch.zeros(2, 1, 32, 32)
    assert torch.equal(built.eval()(x), direct.eval()(x))
    assert tuple(build_model("mlp", hidden=8)(torch.zeros(3, 1, 8, 8)).shape) == (3, 10)


def test_a_new_architecture_needs_only_the_decorator(clean_registry):
    @register("tiny")
    class Tiny(nn.Module):
        def __init__(self, *, n_classes=6):
            super().__init__()
            self.head = nn.Linear(4, n_classes)

    assert Tiny.__name__ == "Tiny"  # le décorateur rend la classe telle quelle
    assert "tiny" in available_models()
    assert isinstance(build_model("tiny", n_classes=3), Tiny)
    assert build_model("tiny", n_classes=3).head.out_features == 3


def test_unknown_names_and_options_list_what_exists(clean_registry):
    @register("tiny")
    def tiny(*, width=2):
        return nn.Linear(width, 2)

    with pytest.raises(ConfigError, match="architecture inconnue 'resnet'.*'cnn', 'mlp', 'tiny'"):
        build_model("resnet")
    with pytest.raises(ConfigError, match="widht.*options acceptées : width"):
        build_model("tiny", widht=3)
    with pytest.raises(LabkitError, match="width"):  # la fonction de construction valide ses propres valeurs
        build_model("cnn", width=0)


def test_a_name_cannot_be_taken_twice_but_reregistering_the_same_function_is_harmless(clean_registry):
    def first():
        return nn.Identity()

    register("twice")(first)
    register("twice")(first)  # réexécuter une cellule de notebook ne doit pas échouer
    with pytest.raises(ModelError, match="déjà enregistrée"):
        register("twice")(lambda: nn.Identity())
    with pytest.raises(ConfigError, match="minuscules"):
        register("Pas Bon")
    with pytest.raises(LabkitError, match="framework"):
        register("x", framework="jax")


def test_registration_is_logged_not_printed(clean_registry, caplog, capsys):
    with caplog.at_level(logging.DEBUG, logger="labkit.models"):
        register("quiet")(lambda: nn.Identity())
    assert any("quiet" in record.getMessage() for record in caplog.records)
    assert capsys.readouterr().out == ""


def test_keras_has_its_own_names():
    pytest.importorskip("keras")
    assert available_models("keras") == ("cnn",)
    model = build_model("cnn", framework="keras", width=4, input_shape=(32, 32, 1))
    assert model.output_shape == (None, 6)


def test_the_registry_imports_no_framework_until_it_builds():
    import subprocess
    import sys

    code = "import sys, labkit.models; print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
