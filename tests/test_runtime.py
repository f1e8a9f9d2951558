"""labkit.init : graines, mode rapide, erreurs claires."""

import numpy as np
import pytest

import labkit
from labkit import LabkitError


def test_init_seeds_numpy_and_reports_context(monkeypatch, capsys):
    monkeypatch.delenv("LABKIT_SMOKE", raising=False)
    ctx = labkit.init(seed=3, framework=None)
    first = np.random.rand(3)
    labkit.init(seed=3, framework=None, verbose=False)
    assert np.array_equal(first, np.random.rand(3))
    assert not ctx.smoke and ctx.device == "cpu" and ctx.threads >= 1
    assert "graine 3" in capsys.readouterr().out


def test_training_threads_default_to_two_and_follow_labkit_threads(monkeypatch):
    from labkit.runtime import TRAINING_THREADS, available_cores

    monkeypatch.delenv("LABKIT_THREADS", raising=False)
    assert labkit.init(framework="torch", verbose=False).threads == min(TRAINING_THREADS, available_cores())
    assert labkit.init(framework=None, verbose=False).threads == 1
    monkeypatch.setenv("LABKIT_THREADS", "1")  # rend aussi à ce processus de test son fil unique
    assert labkit.init(framework="torch", verbose=False).threads == 1
    monkeypatch.setenv("LABKIT_THREADS", "deux")
    with pytest.raises(LabkitError, match="LABKIT_THREADS"):
        labkit.init(framework=None, verbose=False)


def test_smoke_comes_from_parameter_or_environment(monkeypatch):
    monkeypatch.delenv("LABKIT_SMOKE", raising=False)
    assert labkit.init(smoke=True, framework=None, verbose=False).smoke
    assert not labkit.init(smoke=False, framework=None, verbose=False).smoke
    monkeypatch.setenv("LABKIT_SMOKE", "1")
    ctx = labkit.init(smoke=False, framework=None, verbose=False)
    assert ctx.smoke and ctx.pick(full=100, smoke=2) == 2


def test_init_with_torch_fixes_threads_and_seed():
    import torch

    ctx = labkit.init(seed=5, framework="torch", threads=1, verbose=False)
    assert torch.get_num_threads() == 1 and ctx.device in ("cpu", "gpu")
    a = torch.rand(2)
    labkit.init(seed=5, framework="torch", threads=1, verbose=False)
    assert torch.equal(a, torch.rand(2))


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"framework": "jax"}, "framework"),
        ({"smoke": "oui"}, "smoke"),
        ({"threads": 0}, "threads"),
    ],
)
def test_bad_arguments_name_the_argument_in_french(kwargs, word):
    with pytest.raises(LabkitError, match=f"`{word}`"):
        labkit.init(verbose=False, **{"framework": None, **kwargs})


def test_environment_variables_are_parsed_with_french_errors(monkeypatch):
    monkeypatch.setenv("LABKIT_THREADS", "deux")
    with pytest.raises(LabkitError, match="LABKIT_THREADS"):
        labkit.init(framework=None, verbose=False)
    monkeypatch.setenv("LABKIT_THREADS", "1")
    monkeypatch.setenv("LABKIT_SMOKE", "peut-être")
    with pytest.raises(LabkitError, match="LABKIT_SMOKE"):
        labkit.init(framework=None, verbose=False)


def test_one_device_vocabulary_and_the_context_default():
    from labkit.runtime import resolve_device

    labkit.init(framework=None, verbose=False)
    assert resolve_device() == "cpu"
    assert resolve_device("cuda:0") == resolve_device("gpu") == "gpu"
    with pytest.raises(LabkitError, match="`device`"):
        resolve_device("tpu")


def test_a_helper_without_seed_does_not_override_the_notebook_seed():
    import torch

    from labkit import torch as lkt
    from labkit.datasets import make_overfitting_case

    case = make_overfitting_case(n_train=20, n_val=20, seed=0)

    def run(notebook_seed):
        labkit.init(seed=notebook_seed, framework="torch", threads=1, verbose=False)
        model = lkt.make_mlp(hidden=8)
        return lkt.fit(model, case.x_train, case.y_train, case.x_val, case.y_val, epochs=2, progress=False).history["loss"]

    assert run(1) == run(1)
    assert run(1) != run(2)  # la graine du notebook gouverne, fit ne la remplace pas
    torch.manual_seed(0)
