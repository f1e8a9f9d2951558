"""Les erreurs de labkit : une hiérarchie, des messages en français qui disent quoi changer.

Toutes dérivent de :class:`LabkitError` (elle-même une ``ValueError``, pour qu'un
``except ValueError`` existant les attrape). On attrape la famille qui correspond à ce
qu'on sait réparer :

- :class:`ConfigError` : une configuration (fichier YAML, argument) invalide ;
- :class:`DataError` : des données mal formées ou incohérentes (formes, étiquettes, NaN) ;
- :class:`ModelError` : un modèle ou un artefact inutilisable (forme d'entrée, fichier corrompu) ;
- :class:`TrainingError` : un entraînement qui échoue (perte infinie, mémoire) ;
- :class:`CourseError` : les outils de l'enseignant (catalogue, publication, correction).

Le notebook 09 fait écrire à l'étudiant une hiérarchie du même modèle.

>>> issubclass(DataError, LabkitError) and issubclass(LabkitError, ValueError)
True
"""

from __future__ import annotations


class LabkitError(ValueError):
    """Erreur d'usage de labkit (argument invalide, donnée incohérente)."""


class ConfigError(LabkitError):
    """Configuration invalide : un champ inconnu, une valeur hors des valeurs permises."""


class DataError(LabkitError):
    """Données invalides : forme, type, étiquettes, valeurs non finies."""


class ModelError(LabkitError):
    """Modèle ou artefact inutilisable : forme d'entrée refusée, fichier absent ou corrompu."""


class TrainingError(LabkitError):
    """Entraînement impossible à poursuivre : perte non finie, mémoire épuisée."""


class CourseError(LabkitError):
    """Outils de l'enseignant : catalogue, publication, correction."""


__all__ = ["LabkitError", "ConfigError", "DataError", "ModelError", "TrainingError", "CourseError"]
