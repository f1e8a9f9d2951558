"""Preuves chiffrées des cas d'étude : le problème se voit, le diagnostic le signale.

Pour chaque cas (et sa version saine), on entraîne un modèle simple, on mesure la
taille du problème, puis on lance le diagnostic de :mod:`labkit.diagnosis`. Les
tests (``tests/test_case_proofs.py``) vérifient les seuils ; la page « Les données
du cours » affiche le tableau produit ici (``python -m labkit.course figures``).
"""

from __future__ import annotations

import functools

import numpy as np

from ..datasets import (
    make_imbalanced_case,
    make_leakage_case,
    make_overfitting_case,
    make_shift_case,
    make_unnormalized_case,
)
from ..diagnosis import (
    class_balance_report,
    detect_shift,
    diagnose_history,
    feature_scale_report,
    find_leakage,
    validation_optimism,
)

CASES = ("surapprentissage", "normalisation", "déséquilibre", "décalage", "fuite (groupes)", "fuite (prétraitement)")


def _mlp_accuracy(case, *, epochs: int, seed: int):
    """Un MLP (2 × 64 neurones) entraîné sur un cas tabulaire ; renvoie (modèle, prédictions de validation)."""
    from .. import torch as lkt

    model = lkt.make_mlp(in_features=case.x_train.shape[1], hidden=64, depth=2, n_classes=len(case.class_names))
    lkt.fit(model, case.x_train, case.y_train, case.x_val, case.y_val, epochs=epochs, seed=seed, progress=False)
    return model, lkt.predict(model, case.x_val)


def prove_overfitting(clean: bool, *, smoke: bool = False, seed: int = 0) -> dict:
    """MLP de 300 000 paramètres (notebook 01) : écart entraînement − validation, verdict de l'historique."""
    from .. import torch as lkt

    case = make_overfitting_case(seed=seed, clean=clean)
    model = lkt.make_mlp(hidden=512, depth=2)
    history = lkt.fit(model, case.x_train, case.y_train, case.x_val, case.y_val, epochs=20 if smoke else 80, seed=seed, progress=False)
    train = lkt.evaluate(model, case.x_train, case.y_train)["accuracy"]
    val = lkt.evaluate(model, case.x_val, case.y_val)["accuracy"]
    report = diagnose_history(history)
    return {"case": case, "measure": f"entraînement {train:.3f}, validation {val:.3f}", "gap": train - val,
            "val_accuracy": val, "report": report}


def prove_unnormalized(clean: bool, *, smoke: bool = False, seed: int = 0) -> dict:
    """MLP sur les capteurs bruts ou standardisés, comparé à la classe majoritaire."""
    case = make_unnormalized_case(seed=seed, clean=clean)
    _, predictions = _mlp_accuracy(case, epochs=10 if smoke else 30, seed=seed)
    accuracy = float(np.mean(predictions == case.y_val))
    baseline = float(np.bincount(case.y_val).max() / len(case.y_val))
    return {"case": case, "measure": f"accuracy {accuracy:.3f} (classe majoritaire {baseline:.3f})", "accuracy": accuracy,
            "majority_baseline": baseline, "report": feature_scale_report(case.x_train, case.feature_names)}


def prove_imbalanced(clean: bool, *, smoke: bool = False, seed: int = 0) -> dict:
    """MLP sans pondération : accuracy contre rappel de la classe rare."""
    case = make_imbalanced_case(seed=seed, clean=clean)
    _, predictions = _mlp_accuracy(case, epochs=10 if smoke else 30, seed=seed)
    report = class_balance_report(case.y_val, predictions, class_names=case.class_names)
    v = report.values
    return {"case": case, "measure": f"accuracy {v['accuracy']:.3f}, rappel « défectueuse » {v['min_recall']:.3f}",
            "accuracy": v["accuracy"], "min_recall": v["min_recall"], "report": report}


@functools.lru_cache(maxsize=2)
def _shift_model(smoke: bool, seed: int):
    """Le CNN du cas de décalage : entraînement et validation sont les mêmes dans les deux versions, on l'entraîne une fois."""
    from .. import torch as lkt

    case = make_shift_case(n_train=1000 if smoke else 2000, seed=seed)
    model = lkt.make_cnn(width=16)
    lkt.fit(model, case.x_train, case.y_train, case.x_val, case.y_val, epochs=8 if smoke else 20, batch_size=64, lr=3e-3,
            seed=seed, progress=False)
    return model


def prove_shift(clean: bool, *, smoke: bool = False, seed: int = 0) -> dict:
    """Petit CNN entraîné sur la caméra habituelle, évalué sur la validation puis sur la production."""
    from .. import torch as lkt

    case = make_shift_case(n_train=1000 if smoke else 2000, seed=seed, clean=clean)
    model = _shift_model(smoke, seed)
    val = lkt.evaluate(model, case.x_val, case.y_val)["accuracy"]
    test = lkt.evaluate(model, case.x_test, case.y_test)["accuracy"]
    return {"case": case, "measure": f"validation {val:.3f}, production {test:.3f}", "val_accuracy": val,
            "test_accuracy": test, "drop": val - test, "report": detect_shift(case.x_val, case.x_test, seed=seed)}


def prove_group_leakage(clean: bool, *, smoke: bool = False, seed: int = 0) -> dict:
    """Plus proche voisin sur les pixels : il reconnaît les cartes déjà vues."""
    from sklearn.neighbors import KNeighborsClassifier

    case = make_leakage_case("groups", seed=seed, clean=clean)
    flat = lambda x: x.reshape(len(x), -1)  # noqa: E731
    model = KNeighborsClassifier(1).fit(flat(case.x_train), case.y_train)
    val = float(model.score(flat(case.x_val), case.y_val))
    fresh = float(model.score(flat(case.x_test), case.y_test))
    report = find_leakage(case.x_train, case.x_val, groups_train=case.groups_train, groups_test=case.groups_val)
    return {"case": case, "measure": f"validation {val:.3f}, cartes neuves {fresh:.3f}", "val_accuracy": val,
            "fresh_accuracy": fresh, "report": report, "optimism": validation_optimism(val, fresh)}


def prove_preprocessing_leakage(clean: bool, *, smoke: bool = False, seed: int = 0) -> dict:
    """Régression logistique sur les variables sélectionnées : validation contre mesures neuves."""
    from sklearn.linear_model import LogisticRegression

    case = make_leakage_case("preprocessing", seed=seed, clean=clean)
    model = LogisticRegression(max_iter=2000).fit(case.x_train, case.y_train)
    val = float(model.score(case.x_val, case.y_val))
    fresh = float(model.score(case.x_test, case.y_test))
    report = validation_optimism(val, fresh)
    return {"case": case, "measure": f"validation {val:.3f}, mesures neuves {fresh:.3f}", "val_accuracy": val,
            "fresh_accuracy": fresh, "report": report, "duplicates": find_leakage(case.x_train, case.x_val)}


PROOFS = {
    "surapprentissage": prove_overfitting,
    "normalisation": prove_unnormalized,
    "déséquilibre": prove_imbalanced,
    "décalage": prove_shift,
    "fuite (groupes)": prove_group_leakage,
    "fuite (prétraitement)": prove_preprocessing_leakage,
}

CHECK_NAMES = {
    "surapprentissage": "diagnose_history",
    "normalisation": "feature_scale_report",
    "déséquilibre": "class_balance_report",
    "décalage": "detect_shift",
    "fuite (groupes)": "find_leakage",
    "fuite (prétraitement)": "validation_optimism",
}


def cases_table(*, smoke: bool = False, seed: int = 0, progress: bool = True):
    """Le tableau des cas : problème mesuré et verdict du diagnostic, version cassée et version saine."""
    import pandas as pd
    from tqdm.auto import tqdm

    from .. import seed_everything

    rows = []
    for name in tqdm(CASES, desc="cas d'étude", disable=not progress):
        row = {"cas": name, "diagnostic": f"`{CHECK_NAMES[name]}`"}
        for clean, label in ((False, "cassé"), (True, "sain")):
            seed_everything(seed)
            proof = PROOFS[name](clean, smoke=smoke, seed=seed)
            report = proof["report"]
            row[f"mesure ({label})"] = proof["measure"]
            row[f"verdict ({label})"] = ("⚠️ " if report.flagged else "✅ ") + report.verdict
        rows.append(row)
    return pd.DataFrame(rows).set_index("cas")
