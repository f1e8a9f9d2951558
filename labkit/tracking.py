"""Suivre ses expériences avec MLflow, dans un magasin local (notebook 03).

Chaque entraînement devient un *run* : ses paramètres, ses métriques époque par
époque et son modèle sont rangés dans une base SQLite locale, sans serveur ni
réseau. On compare ensuite les runs **en les relisant dans le magasin**, pas en
recopiant des chiffres : un résultat qu'on ne retrouve pas dans le magasin n'existe pas.

MLflow 3 refuse désormais l'ancien magasin en fichiers (``./mlruns``) : le cours
utilise ``sqlite:///<dossier>/mlflow.db``, et les fichiers (modèles) vont dans
``<dossier>/artefacts``. Pour parcourir les runs dans un navigateur :
``mlflow ui --backend-store-uri sqlite:///<dossier>/mlflow.db``.

Usage : ``from labkit import tracking`` (ce module importe MLflow à la demande).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .errors import LabkitError

__all__ = ["use_local_store", "runs_table", "metric_history", "plot_runs", "log_metrics_every_epoch"]

_current_experiment: str | None = None


def _mlflow():
    try:
        import mlflow
    except ImportError:
        raise LabkitError("MLflow n'est pas installé : pip install \"ameliorer-dl[course]\" (paquet mlflow).") from None
    # Les messages d'information de MLflow (création des tables…) encombrent les notebooks.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    return mlflow


def use_local_store(folder="suivi", experiment: str = "cours") -> str:
    """Range les runs dans ``folder/mlflow.db`` et choisit (ou crée) l'expérience ``experiment``.

    Renvoie l'URI du magasin. Relancer la cellule réutilise le même magasin : les runs
    précédents restent, et :func:`runs_table` les montre tous (donnez des noms distincts).
    """
    mlflow = _mlflow()
    if not isinstance(experiment, str) or not experiment.strip():
        raise LabkitError(f"`experiment` doit être un nom non vide, reçu {experiment!r}.")
    folder = Path(folder).resolve()
    if folder.exists() and not folder.is_dir():
        raise LabkitError(f"`folder` doit être un dossier ; {folder} est un fichier.")
    folder.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        mlflow.create_experiment(experiment, artifact_location=(folder / "artefacts").as_uri())
    mlflow.set_experiment(experiment)
    global _current_experiment
    _current_experiment = experiment
    return uri


def _experiment_name(experiment: str | None) -> str:
    mlflow = _mlflow()
    if experiment is not None:
        if mlflow.get_experiment_by_name(experiment) is None:
            raise LabkitError(f"Aucune expérience « {experiment} » dans le magasin {mlflow.get_tracking_uri()}.")
        return experiment
    if _current_experiment is None:
        raise LabkitError("Aucune expérience choisie : appelez use_local_store(...) ou passez `experiment`.")
    return _experiment_name(_current_experiment)


def runs_table(experiment: str | None = None, *, metrics=None, params=None, latest_only: bool = True):
    """Les runs de l'expérience (la courante par défaut), un par ligne, lus dans le magasin.

    Index : le nom du run. Colonnes : les paramètres puis la **dernière** valeur de
    chaque métrique (sans les préfixes ``params.`` et ``metrics.`` de MLflow), et la
    durée en secondes. ``metrics`` / ``params`` restreignent les colonnes.

    Relancer une cellule crée un nouveau run du même nom sans effacer l'ancien :
    ``latest_only=True`` ne montre que le plus récent de chaque nom, ``False`` les montre tous.
    """
    mlflow = _mlflow()
    name = _experiment_name(experiment)
    runs = mlflow.search_runs(experiment_names=[name], order_by=["attributes.start_time ASC"])
    if runs.empty:
        raise LabkitError(f"L'expérience « {name} » ne contient encore aucun run.")
    if latest_only:
        runs = runs.drop_duplicates("tags.mlflow.runName", keep="last")
    table = runs.set_index("tags.mlflow.runName")
    table.index.name = "run"
    param_columns = [c for c in table.columns if c.startswith("params.")]
    metric_columns = [c for c in table.columns if c.startswith("metrics.")]
    if params is not None:
        param_columns = [f"params.{p}" for p in params]
    if metrics is not None:
        metric_columns = [f"metrics.{m}" for m in metrics]
    missing = [c for c in param_columns + metric_columns if c not in table.columns]
    if missing:
        raise LabkitError(f"Colonnes absentes du magasin : {missing} ; disponibles : {sorted(table.columns)}.")
    out = table[param_columns + metric_columns].rename(columns=lambda c: c.split(".", 1)[1])
    out["durée (s)"] = (table["end_time"] - table["start_time"]).dt.total_seconds().to_numpy()
    out["run_id"] = table["run_id"].to_numpy()
    return out


def metric_history(run: str, metric: str, experiment: str | None = None):
    """La métrique ``metric`` d'un run, époque par époque (``pandas.Series``).

    ``run`` est un nom (le run le plus récent de ce nom) ou un identifiant ``run_id``.
    """
    import pandas as pd

    mlflow = _mlflow()
    table = runs_table(experiment)
    if run in table.index:
        run_id = table.loc[run, "run_id"]
    elif run in set(runs_table(experiment, latest_only=False)["run_id"]):
        run_id = run
    else:
        raise LabkitError(f"Run « {run} » introuvable ; runs de l'expérience : {list(table.index)}.")
    history = mlflow.tracking.MlflowClient().get_metric_history(run_id, metric)
    if not history:
        raise LabkitError(f"Le run « {run} » n'a pas de métrique « {metric} ».")
    series = pd.Series({h.step: h.value for h in sorted(history, key=lambda h: h.step)}, name=run)
    series.index.name = "époque"
    return series


def plot_runs(metric: str = "val_loss", experiment: str | None = None, runs=None):
    """Une courbe par run pour ``metric``, relue dans le magasin."""
    import matplotlib.pyplot as plt

    table = runs_table(experiment)
    names = list(table.index) if runs is None else list(runs)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        history = metric_history(name, metric, experiment)
        ax.plot(history.index, history.to_numpy(), label=name)
    ax.set_xlabel("époque")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def log_metrics_every_epoch():
    """Un callback Keras qui range, à chaque époque, les métriques de ``logs`` et le pas d'apprentissage.

    À utiliser dans un run ouvert (``mlflow.start_run``) ; :func:`labkit.keras.fit_tracked`
    s'en sert. Plus léger que ``mlflow.keras.MlflowCallback`` : il ne range que les
    métriques, pas la configuration de l'optimiseur, et ajoute le pas effectif (``lr``),
    utile pour voir un planning du pas.
    """
    import keras

    mlflow = _mlflow()

    class _EpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            values = {key: float(value) for key, value in (logs or {}).items() if key != "learning_rate"}
            values["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            mlflow.log_metrics(values, step=epoch)

    return _EpochLogger()
