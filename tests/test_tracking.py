"""Suivi des expériences : magasin MLflow local, relu pour comparer les runs."""

import pytest

mlflow = pytest.importorskip("mlflow")

from labkit import LabkitError, tracking  # noqa: E402


@pytest.fixture
def store(tmp_path):
    uri = tracking.use_local_store(tmp_path / "suivi", experiment="essais")
    for name, decay in (("référence", 0.0), ("L2", 1e-4)):
        with mlflow.start_run(run_name=name):
            mlflow.log_params({"weight_decay": decay, "epochs": 3})
            for epoch in range(3):
                mlflow.log_metric("val_loss", 1.0 / (epoch + 1) + decay, step=epoch)
    yield uri, tmp_path / "suivi"
    mlflow.set_tracking_uri(None)


def test_the_store_is_a_local_sqlite_file(store):
    uri, folder = store
    assert uri.startswith("sqlite:///") and (folder / "mlflow.db").is_file()


def test_runs_are_read_back_from_the_store(store):
    table = tracking.runs_table()
    assert list(table.index) == ["référence", "L2"]  # ordre de lancement
    assert table.loc["L2", "weight_decay"] == "0.0001"  # MLflow range les paramètres en texte
    assert table.loc["référence", "val_loss"] == pytest.approx(1 / 3)
    assert (table["durée (s)"] >= 0).all()
    assert list(tracking.runs_table("essais", metrics=["val_loss"], params=[]).columns) == ["val_loss", "durée (s)", "run_id"]


def test_metric_history_and_plot(store):
    history = tracking.metric_history("L2", "val_loss")
    assert list(history.index) == [0, 1, 2]
    assert history.iloc[0] == pytest.approx(1.0001)
    fig = tracking.plot_runs("val_loss")
    assert len(fig.axes[0].lines) == 2


def test_store_errors_are_explicit(store, tmp_path):
    with pytest.raises(LabkitError, match="Aucune expérience"):
        tracking.runs_table("inconnue")
    with pytest.raises(LabkitError, match="introuvable"):
        tracking.metric_history("absent", "val_loss")
    with pytest.raises(LabkitError, match="pas de métrique"):
        tracking.metric_history("L2", "accuracy")
    with pytest.raises(LabkitError, match="Colonnes absentes"):
        tracking.runs_table(metrics=["f1"])
    (tmp_path / "fichier").write_text("x")
    with pytest.raises(LabkitError, match="dossier"):
        tracking.use_local_store(tmp_path / "fichier")
    with pytest.raises(LabkitError, match="experiment"):
        tracking.use_local_store(tmp_path / "autre", experiment=" ")


def test_an_empty_experiment_says_so(tmp_path):
    tracking.use_local_store(tmp_path / "vide", experiment="vide")
    try:
        with pytest.raises(LabkitError, match="aucun run"):
            tracking.runs_table()
    finally:
        mlflow.set_tracking_uri(None)


def test_a_rerun_cell_keeps_both_runs_and_reads_the_latest(store):
    first = tracking.runs_table().loc["L2", "run_id"]
    with mlflow.start_run(run_name="L2"):
        mlflow.log_metric("val_loss", 0.1, step=0)
    assert list(tracking.runs_table().index) == ["référence", "L2"]
    assert tracking.runs_table().loc["L2", "val_loss"] == pytest.approx(0.1)
    everything = tracking.runs_table(latest_only=False)
    assert list(everything.index) == ["référence", "L2", "L2"]  # rien n'est effacé
    assert list(tracking.metric_history("L2", "val_loss")) == [0.1]
    assert len(tracking.metric_history(first, "val_loss")) == 3  # l'ancien reste lisible par son identifiant
