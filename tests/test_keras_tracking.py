"""Un entraînement Keras suivi dans MLflow (notebook 03) : ce qui est rangé se relit dans le magasin."""

import numpy as np
import pytest

pytest.importorskip("keras")
mlflow = pytest.importorskip("mlflow")

import keras  # noqa: E402

from labkit import LabkitError, tracking  # noqa: E402
from labkit import keras as lkk  # noqa: E402
from labkit.adapters import channels_last  # noqa: E402
from labkit.datasets import make_overfitting_case  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    case = make_overfitting_case(n_train=60, n_val=60, n_test=60, seed=0)
    return channels_last(case.x_train), case.y_train, channels_last(case.x_val), case.y_val, channels_last(case.x_test), case.y_test


@pytest.fixture
def store(tmp_path):
    tracking.use_local_store(tmp_path / "suivi", experiment="keras")
    yield tmp_path / "suivi"
    mlflow.set_tracking_uri(None)


def _small_model():
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(10)])


def test_fit_tracked_stores_recipe_curves_test_scores_and_model(digits, store):
    x_train, y_train, x_val, y_val, x_test, y_test = digits
    keras.utils.set_random_seed(0)
    model = _small_model()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    result = lkk.fit_tracked("petit", model, x_train, y_train, x_val, y_val, test_data=(x_test, y_test),
                             params={"dropout": 0.0}, epochs=40, lr=3e-2, callbacks=[stop], progress=False)
    table = tracking.runs_table()
    row = table.loc["petit"]
    assert row["dropout"] == "0.0" and row["epochs"] == "40" and row["n_parameters"] == str(model.count_params())
    epochs_run = len(result["history"].history["val_loss"])
    assert row["epochs_run"] == epochs_run < 40  # l'arrêt anticipé a joué et le magasin le dit
    assert row["test_accuracy"] == pytest.approx(lkk.evaluate(model, x_test, y_test)["accuracy"])
    assert row["test_accuracy"] == pytest.approx(result["test_accuracy"])
    history = tracking.metric_history("petit", "val_loss")
    assert len(history) == epochs_run
    assert row["best_val_loss"] == pytest.approx(history.min(), rel=1e-6)
    assert tracking.metric_history("petit", "lr").iloc[0] == pytest.approx(3e-2)
    artifacts = mlflow.artifacts.download_artifacts(run_id=result["run_id"], dst_path=str(store / "relu"))
    reloaded = keras.saving.load_model(f"{artifacts}/model.keras")
    np.testing.assert_allclose(reloaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0), atol=1e-5)


def test_the_logged_learning_rate_follows_a_schedule(digits, store):
    x_train, y_train, x_val, y_val, x_test, y_test = digits
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch: 1e-3 * (epoch + 1))
    lkk.fit_tracked("planning", _small_model(), x_train, y_train, x_val, y_val, test_data=(x_test, y_test),
                    epochs=3, callbacks=[schedule], progress=False, save_model=False)
    np.testing.assert_allclose(tracking.metric_history("planning", "lr").to_numpy(), [1e-3, 2e-3, 3e-3], rtol=1e-5)


def test_fit_tracked_rejects_bad_arguments_in_french(digits, store):
    x_train, y_train, x_val, y_val, x_test, y_test = digits
    model = _small_model()
    with pytest.raises(LabkitError, match="test_data"):
        lkk.fit_tracked("x", model, x_train, y_train, x_val, y_val, test_data=x_test)
    with pytest.raises(LabkitError, match="run_name"):
        lkk.fit_tracked("", model, x_train, y_train, x_val, y_val, test_data=(x_test, y_test))
    with pytest.raises(LabkitError, match="params"):
        lkk.fit_tracked("x", model, x_train, y_train, x_val, y_val, test_data=(x_test, y_test), params=[1])
    with pytest.raises(LabkitError, match="Options inconnues"):
        lkk.fit_tracked("x", model, x_train, y_train, x_val, y_val, test_data=(x_test, y_test), epoch=3)
    with pytest.raises(LabkitError, match="forme"):
        lkk.fit_tracked("x", model, x_train, y_train, x_val, y_val, test_data=(x_test[:, :4], y_test))
    with pytest.raises(LabkitError, match="`optimizer` doit être l'un de"):
        lkk.fit_tracked("x", model, x_train, y_train, x_val, y_val, test_data=(x_test, y_test), optimizer="adagrad")


@pytest.mark.parametrize("name, expected", [("sgd", keras.optimizers.SGD), ("RMSprop", keras.optimizers.RMSprop)])
def test_the_optimizer_is_chosen_by_name_and_logged(digits, store, name, expected):
    x_train, y_train, x_val, y_val, x_test, y_test = digits
    model = _small_model()
    lkk.fit_tracked(name, model, x_train, y_train, x_val, y_val, test_data=(x_test, y_test), epochs=1, lr=1e-2,
                    optimizer=name, progress=False, save_model=False)
    assert isinstance(model.optimizer, expected)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-2)
    if expected is keras.optimizers.SGD:
        assert model.optimizer.momentum == pytest.approx(0.9)
    assert tracking.runs_table().loc[name, "optimizer"] == name.lower()
