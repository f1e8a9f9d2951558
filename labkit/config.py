"""Des configurations validées : un schéma pydantic, un fichier YAML, des erreurs en français (notebook 09).

Une configuration se lit une fois, à l'entrée du programme, et se vérifie tout entière
avant que le travail commence : un nom de champ mal tapé, un pas d'apprentissage négatif
ou un optimiseur inconnu arrêtent tout de suite, avec un message qui nomme le champ, la
valeur reçue et ce qui est permis — pas après vingt minutes d'entraînement. Le reste du
code reçoit un objet validé, jamais un dictionnaire.

- :class:`Schema` : la base des schémas de labkit (champ inconnu refusé, objet figé) ;
- :func:`parse_config` valide un dictionnaire, :func:`load_config` un fichier YAML ;
- :func:`save_config` écrit la configuration **résolue** (valeurs par défaut comprises),
  à ranger à côté des résultats qu'elle a produits ;
- :func:`describe_errors` traduit les erreurs de pydantic, une ligne par champ.

Demande ``pydantic`` (v2) et ``PyYAML`` (extra ``config``) ; ``import labkit`` ne les
importe pas. Le notebook 09 fait écrire à l'étudiant un chargeur du même modèle ;
``benchmarks/optimization.py`` s'en sert pour ses réglages.

>>> from pydantic import Field
>>> class Entrainement(Schema):
...     epochs: int = Field(10, ge=1)
...     lr: float = Field(1e-3, gt=0)
>>> parse_config({"epochs": 3}, Entrainement)
Entrainement(epochs=3, lr=0.001)
>>> parse_config({"epochs": 0, "pas": 0.1}, Entrainement)
Traceback (most recent call last):
...
labkit.errors.ConfigError: Configuration invalide (Entrainement), 2 erreur(s) :
- epochs : doit être ≥ 1 (reçu 0)
- pas : champ inconnu ; champs permis : epochs, lr
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

try:
    import yaml
    from pydantic import BaseModel, ConfigDict, ValidationError
except ImportError as _missing:  # pragma: no cover - dépend de l'installation
    raise ImportError(
        "labkit.config a besoin de pydantic (v2) et de PyYAML : pip install \"ameliorer-dl[config]\"."
    ) from _missing

__all__ = ["Schema", "describe_errors", "load_config", "parse_config", "save_config"]


class Schema(BaseModel):
    """Base des schémas de configuration : un champ inconnu est refusé, l'objet validé ne change plus."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: Les erreurs de pydantic (champ ``type``), en français ; les accolades reprennent son contexte (``ctx``).
_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "literal_error": "valeur refusée ; valeurs permises : {expected}",
    "enum": "valeur refusée ; valeurs permises : {expected}",
    "greater_than": "doit être > {gt}",
    "greater_than_equal": "doit être ≥ {ge}",
    "less_than": "doit être < {lt}",
    "less_than_equal": "doit être ≤ {le}",
    "finite_number": "doit être un nombre fini",
    "int_type": "doit être un entier",
    "int_parsing": "doit être un entier",
    "int_from_float": "doit être un entier (sans partie décimale)",
    "float_type": "doit être un nombre",
    "float_parsing": "doit être un nombre",
    "bool_type": "doit valoir true ou false",
    "bool_parsing": "doit valoir true ou false",
    "string_type": "doit être un texte",
    "string_too_short": "doit contenir au moins {min_length} caractère(s)",
    "string_too_long": "doit contenir au plus {max_length} caractère(s)",
    "string_pattern_mismatch": "doit respecter le motif {pattern}",
    "model_type": "doit être une section (des paires clé: valeur)",
    "model_attributes_type": "doit être une section (des paires clé: valeur)",
    "dict_type": "doit être une section (des paires clé: valeur)",
    "list_type": "doit être une liste",
    "tuple_type": "doit être une liste",
    "too_short": "doit contenir au moins {min_length} élément(s)",
    "too_long": "doit contenir au plus {max_length} élément(s)",
    "frozen_instance": "ne se modifie plus après la validation",
}


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_names(schema, location) -> list[str]:
    """Les champs du schéma à l'endroit ``location`` (une section imbriquée), ou ``[]`` si on ne sait pas."""
    model = schema
    for key in location:
        field = getattr(model, "model_fields", {}).get(key) if isinstance(key, str) else None
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(getattr(model, "model_fields", {}))


def describe_errors(error: ValidationError, schema=None) -> list[str]:
    """Une ligne française par erreur de ``error`` : « champ.imbriqué : explication (reçu valeur) ».

    Avec ``schema``, un champ inconnu est suivi de la liste des champs permis à cet endroit.
    """
    lines = []
    for item in error.errors(include_url=False):
        location = item.get("loc", ())
        where = ".".join(str(part) for part in location) or "(configuration)"
        context = {key: str(value).replace(" or ", ", ") for key, value in (item.get("ctx") or {}).items()}
        kind = item.get("type", "")
        try:
            text = _MESSAGES[kind].format(**context)
        except (KeyError, IndexError):
            text = f"valeur refusée ({item.get('msg', kind)})"
        if kind == "extra_forbidden" and schema is not None:
            allowed = _field_names(schema, location[:-1])
            if allowed:
                text += f" ; champs permis : {', '.join(allowed)}"
        elif kind != "missing":
            text += f" (reçu {_show(item.get('input'))})"
        lines.append(f"{where} : {text}")
    return lines


def _check_schema(schema) -> None:
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ConfigError(f"`schema` doit être une classe pydantic (BaseModel), reçu {_show(schema)}.")


def parse_config(data, schema):
    """Valide le dictionnaire ``data`` avec le schéma pydantic ``schema`` et renvoie l'objet validé.

    Toutes les erreurs sont rapportées ensemble, dans une :class:`~labkit.errors.ConfigError`.
    """
    _check_schema(schema)
    if not isinstance(data, dict):
        raise ConfigError(f"Une configuration {schema.__name__} doit être une section de paires clé: valeur, reçu {_show(data)}.")
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        lines = describe_errors(error, schema)
        raise ConfigError(
            f"Configuration invalide ({schema.__name__}), {len(lines)} erreur(s) :\n" + "\n".join(f"- {line}" for line in lines)
        ) from None


def load_config(path, schema):
    """Lit le fichier YAML ``path`` et le valide avec ``schema`` (:func:`parse_config`).

    Un fichier absent, un YAML mal formé ou un contenu invalide lèvent une
    :class:`~labkit.errors.ConfigError` qui nomme le fichier (et la ligne, pour le YAML).
    """
    _check_schema(schema)
    if not isinstance(path, (str, Path)):
        raise ConfigError(f"`path` doit être un chemin de fichier YAML, reçu {type(path).__name__}.")
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"`path` : fichier de configuration introuvable : {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (ligne {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"`path` : {path.name} n'est pas un YAML valide{where}.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"`path` : {path.name} doit contenir des paires clé: valeur, reçu {_show(data)}.")
    try:
        return parse_config(data, schema)
    except ConfigError as error:
        raise ConfigError(f"{path.name} : {error}") from None


def save_config(config, path) -> Path:
    """Écrit la configuration résolue ``config`` (valeurs par défaut comprises) en YAML ; renvoie le chemin.

    ``path`` est un fichier, ou un dossier (qui reçoit alors ``config.yaml``). Relire le
    fichier avec :func:`load_config` redonne la même configuration.
    """
    if not isinstance(config, BaseModel):
        raise ConfigError(f"`config` doit être une configuration validée (objet pydantic), reçu {type(config).__name__}.")
    if not isinstance(path, (str, Path)):
        raise ConfigError(f"`path` doit être un chemin de fichier ou de dossier, reçu {type(path).__name__}.")
    path = Path(path)
    if path.is_dir():
        path = path / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path
