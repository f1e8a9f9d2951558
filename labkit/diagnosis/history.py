"""Diagnostic d'un historique d'entraînement.

Introduit dans le notebook 01 (diagnostic d'un historique d'entraînement).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import LabkitError
from ..validation import validate_float, validate_numbers

VERDICTS = ("surapprentissage", "sous-apprentissage", "sain", "instable")
_REQUIRED_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")


def history_as_dict(history, *, allow_nonfinite: bool = False) -> dict:
    """Accepte un ``History`` de labkit ou de Keras, ou un dictionnaire de listes."""
    raw = getattr(history, "history", history)
    if not isinstance(raw, dict):
        raise LabkitError(
            "`history` doit être un historique d'entraînement (objet History ou dictionnaire "
            f"avec les clés {', '.join(_REQUIRED_KEYS)}), reçu {type(history).__name__}."
        )
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    if missing:
        raise LabkitError(f"`history` n'a pas les clés {missing} ; clés présentes : {sorted(raw)}.")
    arrays = {k: validate_numbers(f"history['{k}']", raw[k], allow_nonfinite=allow_nonfinite) for k in _REQUIRED_KEYS}
    lengths = {len(v) for v in arrays.values()}
    if len(lengths) != 1:
        raise LabkitError(f"Les listes de `history` n'ont pas toutes la même longueur : { {k: len(v) for k, v in arrays.items()} }.")
    return arrays


@dataclass
class HistoryDiagnosis:
    """Verdict d'un historique et les observations qui le justifient."""

    verdict: str
    turning_epoch: int
    gap: float
    train_accuracy: float
    val_accuracy: float
    evidence: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """``True`` quand un problème est détecté (tout verdict autre que « sain »)."""
        return self.verdict != "sain"

    @property
    def values(self) -> dict:
        """Les chiffres du verdict, comme dans les autres rapports de :mod:`labkit.diagnosis`."""
        return {
            "turning_epoch": self.turning_epoch,
            "gap": self.gap,
            "train_accuracy": self.train_accuracy,
            "val_accuracy": self.val_accuracy,
        }

    def __str__(self) -> str:
        lines = [f"Verdict : {self.verdict}"] + [f"  • {e}" for e in self.evidence]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return f"**Verdict : {self.verdict}**\n\n" + "\n".join(f"- {e}" for e in self.evidence)


def diagnose_history(
    history,
    *,
    max_gap: float = 0.10,
    turn_tolerance: float = 0.10,
    max_accuracy_drop: float = 0.02,
    min_accuracy: float = 0.80,
) -> HistoryDiagnosis:
    """Diagnostique un historique : surapprentissage, sous-apprentissage, sain ou instable.

    - **instable** : valeurs non finies, ou perte d'entraînement qui remonte souvent ;
    - **surapprentissage** : écart final entraînement − validation > ``max_gap``, ou perte
      de validation finale supérieure de plus de ``turn_tolerance`` (relatif) à son minimum
      **avec** une précision de validation tombée de plus de ``max_accuracy_drop`` sous son
      meilleur niveau (si la précision tient, la remontée de la perte est signalée comme
      excès de confiance, sans changer le verdict) ;
    - **sous-apprentissage** : précision d'entraînement finale < ``min_accuracy`` ;
    - **sain** sinon.

    >>> h = {"loss": [1.0, 0.5, 0.2, 0.05], "accuracy": [0.5, 0.8, 0.95, 1.0],
    ...      "val_loss": [1.0, 0.7, 0.8, 1.1], "val_accuracy": [0.5, 0.6, 0.6, 0.58]}
    >>> diagnose_history(h).verdict
    'surapprentissage'
    """
    max_gap = validate_float("max_gap", max_gap, minimum=0, maximum=1)
    turn_tolerance = validate_float("turn_tolerance", turn_tolerance, minimum=0)
    max_accuracy_drop = validate_float("max_accuracy_drop", max_accuracy_drop, minimum=0, maximum=1)
    min_accuracy = validate_float("min_accuracy", min_accuracy, minimum=0, maximum=1)
    h = history_as_dict(history, allow_nonfinite=True)
    broken = [k for k, values in h.items() if not np.isfinite(values).all()]
    if broken:
        return HistoryDiagnosis(
            "instable",
            0,
            float("nan"),
            float("nan"),
            float("nan"),
            [f"valeurs non finies (NaN ou infini) dans {', '.join(broken)} : l'entraînement a divergé"],
        )
    train_loss, val_loss = h["loss"], h["val_loss"]
    turning = int(np.argmin(val_loss))
    gap = float(h["accuracy"][-1] - h["val_accuracy"][-1])
    diagnosis = HistoryDiagnosis("sain", turning, gap, float(h["accuracy"][-1]), float(h["val_accuracy"][-1]))
    ev = diagnosis.evidence
    ev.append(
        f"précision finale : entraînement {h['accuracy'][-1]:.1%}, validation {h['val_accuracy'][-1]:.1%} (écart {gap * 100:+.1f} points)"
    )
    rises = np.diff(train_loss) > 0.05 * np.abs(train_loss[:-1])
    if len(train_loss) >= 4 and (rises.mean() > 0.4 or train_loss[-1] > train_loss[0]):
        diagnosis.verdict = "instable"
        ev.append(f"la perte d'entraînement remonte à {rises.sum()} époques sur {len(rises)} : taux d'apprentissage trop fort ?")
        return diagnosis
    rise = val_loss[-1] / val_loss[turning] - 1 if val_loss[turning] > 0 else 0.0
    accuracy_drop = float(np.max(h["val_accuracy"]) - h["val_accuracy"][-1])
    if turning < len(val_loss) - 1:
        ev.append(
            f"la perte de validation est minimale à l'époque {turning}, puis remonte de {rise:.0%} ; "
            f"la précision de validation finale est {accuracy_drop * 100:.1f} points sous sa meilleure valeur"
        )
    turned = rise > turn_tolerance and accuracy_drop > max_accuracy_drop
    if rise > turn_tolerance and not turned and gap <= max_gap:
        ev.append(
            "la perte remonte mais la précision tient : le modèle devient trop sûr de lui ; "
            f"l'arrêt anticipé vers l'époque {turning} resterait plus prudent"
        )
    if gap > max_gap or turned:
        diagnosis.verdict = "surapprentissage"
        ev.append("le modèle apprend l'entraînement par cœur au lieu de généraliser : régulariser, augmenter, arrêter plus tôt")
    elif h["accuracy"][-1] < min_accuracy:
        diagnosis.verdict = "sous-apprentissage"
        ev.append(f"précision d'entraînement sous {min_accuracy:.0%} : modèle trop petit, trop régularisé ou pas assez entraîné")
    else:
        ev.append("pas de décrochage entre entraînement et validation")
    return diagnosis
