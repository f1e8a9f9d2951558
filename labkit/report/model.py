"""Mesures avec leur provenance, comparaisons calculées et rapports : aucun chiffre tapé à la main.

Un rapport d'amélioration n'affirme rien qu'il ne puisse prouver : chaque nombre
qu'il affiche est une :class:`Measurement`, relevée dans un objet que le cours
produit (tableau de :func:`labkit.optimize.measure.compare`, run MLflow, fichier
de ``benchmarks/results``, rapport de :mod:`labkit.diagnosis`), avec ce qui a été
mesuré, sur quelles données, par quel moteur, avec combien de fils, quand, sur
quelle machine et d'où vient le chiffre. Les améliorations ne se recopient pas :
:class:`Comparison` les calcule, avec leur signe, leur unité et leur sens.

>>> import pandas as pd
>>> table = pd.DataFrame({"moteur": ["ONNX Runtime"] * 2, "précision": [0.951, 0.953],
...                       "latence b1 (ms)": [1.24, 0.472], "p90 b1 (ms)": [1.35, 0.535]},
...                      index=pd.Index(["fp32", "int8"], name="variante"))
>>> machine = Machine("AMD EPYC", cores=2, os="Linux", python="3.11.7")
>>> test = DataRef("PCB, test", size=1000, seed=1)
>>> def mesure(ligne, colonne):
...     return Measurement.from_compare_table(table, ligne, colonne, data=test, threads=1, machine=machine,
...                                           measured_at="2026-12-01T10:00:00+00:00")
>>> latence = Comparison(mesure("fp32", "latence b1 (ms)"), mesure("int8", "latence b1 (ms)"))
>>> latence.improved, latence.factor_text, latence.significant
(True, '×2,63 plus rapide', True)
>>> Comparison(mesure("fp32", "précision"), mesure("int8", "précision")).change_text
'+0,2\\xa0point'
"""

from __future__ import annotations

import math
import numbers
import os
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

# Le seul import de LabkitError du paquet (render.py le reprend ici) : si le module
# de validation change de nom, il n'y a qu'une ligne à corriger.
from ..errors import LabkitError

__all__ = [
    "Comparison",
    "DataRef",
    "ImprovementReport",
    "LabkitError",
    "Machine",
    "Measurement",
    "OptimizationSheet",
    "Problem",
    "Solution",
    "Source",
    "Spread",
    "Technique",
    "course_benchmark",
    "format_number",
    "format_value",
    "log_provenance",
    "report_environment",
]

NBSP = "\u00a0"  # espace insécable : avant « : », « % » et entre un nombre et son unité
NNBSP = "\u202f"  # espace fine insécable : avant « ; ! ? » et entre les milliers
MINUS = "\u2212"  # signe moins typographique

_TYPED_NUMBER = (
    "un nombre tapé à la main ne peut pas entrer dans un rapport : passez une mesure (Measurement) "
    "construite à partir de ce qui l'a produite (Measurement.from_compare_table, from_mlflow_run, "
    "from_benchmark_file, from_diagnosis, from_latency_stats)"
)

TIME_UNITS = {"ms": 1e-3, "s": 1.0, "µs": 1e-6, "min": 60.0}
SIZE_UNITS = {"octets": 1.0, "ko": 1e3, "Mo": 1e6, "Go": 1e9}
PROPORTION = "proportion"  # une fraction entre 0 et 1, affichée en pourcentage ; ses écarts en points
SOURCE_KINDS = {
    "compare": "tableau de measure.compare",
    "mlflow": "run MLflow",
    "benchmark": "fichier de banc d'essai",
    "diagnosis": "rapport de diagnostic",
    "latency": "measure.measure_latency",
}
DIRECTIONS = {"higher": "plus haut est meilleur", "lower": "plus bas est meilleur"}

# Mots qui disent dans quel sens une grandeur s'améliore (les unités de temps et de taille suffisent aussi).
_LOWER_WORDS = ("latence", "temps", "durée", "taille", "perte", "loss", "erreur", "paramètres", "mémoire", "écart")
_HIGHER_WORDS = ("précision", "accuracy", "exactitude", "rappel", "recall", "f1", "mcc", "score", "auc")


# --------------------------------------------------------------------------- mise en forme française


def format_number(value: float, decimals: int | None = None) -> str:
    """Un nombre à la française : virgule décimale, espace fine entre les milliers, vrai signe moins.

    Sans ``decimals``, garde trois chiffres significatifs (les entiers restent entiers).

    >>> format_number(1234567), format_number(0.4721), format_number(-3.4312), format_number(82.94)
    ('1\\u202f234\\u202f567', '0,472', '−3,43', '82,9')
    """
    value = float(value)
    if decimals is None:
        magnitude = abs(value)
        if value.is_integer():
            decimals = 0
        elif magnitude >= 1:
            decimals = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2
        else:  # trois chiffres significatifs : 0,472 ; 0,0123
            decimals = 2 - int(math.floor(math.log10(magnitude)))
    text = f"{abs(value):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    if re.fullmatch(r"[0\u202f,]*", text):  # arrondi à zéro : pas de « −0 »
        return text
    return (MINUS if value < 0 else "") + text


def format_value(value: float, unit: str) -> str:
    """Une valeur et son unité, séparées par une espace insécable ; une proportion devient un pourcentage.

    >>> format_value(0.951, "proportion"), format_value(512.0, "ko"), format_value(19.0, "")
    ('95,1\\xa0%', '512\\xa0ko', '19')
    """
    if unit == PROPORTION:
        return f"{format_number(value * 100, 1)}{NBSP}%"
    text = format_number(value)
    return f"{text}{NBSP}{unit}" if unit else text


def _plural(value: float, word: str) -> str:
    # En français, le pluriel commence à deux : « 1,5 point », « 2 points ».
    return word if abs(value) < 2 else word + "s"


def french_typography(text: str) -> str:
    """Espaces insécables de la typographie française dans un texte : avant « : », « % », « ; », « ? », « ! », « » ».

    >>> french_typography("Latence : 3 % ; vraiment ?") == "Latence\\xa0: 3\\xa0%\\u202f; vraiment\\u202f?"
    True
    """
    text = re.sub(r"[ \t]+([:%»])", lambda m: NBSP + m.group(1), str(text))
    text = re.sub(r"«[ \t]+", "«" + NBSP, text)
    return re.sub(r"[ \t]+([;!?])", lambda m: NNBSP + m.group(1), text)


# Un résultat chiffré tapé dans le texte libre : « 97 % », « 3,4 ms », « 512 ko », « +1,2 point », « ×2,3 », « 4× ».
_NUMBER_IN_PROSE = re.compile(
    r"(?<![\w.,])[+\-−]?\d+(?:[.,]\d+)?\s*(?:%|ms\b|µs\b|s\b|ko\b|Ko\b|kB\b|KB\b|Mo\b|MB\b|Go\b|GB\b|points?\b|pts?\b|×|fois\b)"
    r"|×\s*\d"
)


def _check_text(name: str, value, *, allow_empty: bool = False, prose: bool = True) -> str:
    if not isinstance(value, str):
        raise LabkitError(f"`{name}` doit être un texte (str), reçu {type(value).__name__}.")
    value = value.strip()
    if not value and not allow_empty:
        raise LabkitError(f"`{name}` ne doit pas être vide.")
    if prose:
        found = _NUMBER_IN_PROSE.search(value)
        if found:
            raise LabkitError(
                f"`{name}` contient un résultat chiffré écrit à la main (« {found.group(0).strip()} ») : {_TYPED_NUMBER}. "
                "Le rapport affiche lui-même les valeurs mesurées ; décrivez-les en mots dans le texte."
            )
    return value


def _check_texts(name: str, values, *, prose: bool = True) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        raise LabkitError(f"`{name}` doit être une liste de textes, reçu {type(values).__name__}.")
    return tuple(_check_text(f"{name}[{i}]", v, prose=prose) for i, v in enumerate(values))


def _reject_number(name: str, value) -> None:
    if isinstance(value, numbers.Number) and not isinstance(value, bool) or type(value).__module__ == "numpy":
        raise LabkitError(f"`{name}` vaut {value!r} : {_TYPED_NUMBER}.")


def _as_tuple(name: str, values, kind: type, *, minimum: int = 0, what: str) -> tuple:
    if isinstance(values, kind):
        values = [values]
    _reject_number(name, values)
    if values is None or isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise LabkitError(f"`{name}` doit être une liste de {what}, reçu {type(values).__name__}.")
    values = tuple(values)
    for i, v in enumerate(values):
        _reject_number(f"{name}[{i}]", v)
        if not isinstance(v, kind):
            raise LabkitError(f"`{name}[{i}]` doit être un objet {kind.__name__} ({what}), reçu {type(v).__name__}.")
    if len(values) < minimum:
        raise LabkitError(
            f"`{name}` doit contenir au moins {minimum} {what}, reçu {len(values)} : une mesure manquante est une "
            f"erreur, pas une case vide."
        )
    return values


def _iso(name: str, value) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise LabkitError(f"`{name}` doit être une date ISO 8601 (ex. 2026-12-01T10:00:00+00:00), reçu {value!r}.") from None
    else:
        raise LabkitError(f"`{name}` doit être une date (datetime ou texte ISO 8601), reçu {type(value).__name__}.")
    if moment.tzinfo is None:
        moment = moment.astimezone()  # heure locale de la machine, notée explicitement
    return moment.isoformat(timespec="seconds")


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------- provenance


@dataclass(frozen=True)
class DataRef:
    """Les données d'une mesure : un nom, un nombre d'exemples et la graine qui les a tirées (s'il y en a une).

    >>> DataRef("PCB, test", size=1000, seed=1).describe()
    'PCB, test (1\\u202f000 exemples, graine 1)'
    """

    name: str
    size: int
    seed: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "name", _check_text("data.name", self.name, prose=False))
        if isinstance(self.size, bool) or not isinstance(self.size, numbers.Integral) or self.size < 1:
            raise LabkitError(f"`data.size` doit être le nombre d'exemples mesurés (entier ≥ 1), reçu {self.size!r}.")
        object.__setattr__(self, "size", int(self.size))
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral)):
            raise LabkitError(f"`data.seed` doit être un entier ou None, reçu {self.seed!r}.")

    def describe(self) -> str:
        seed = f", graine {self.seed}" if self.seed is not None else ""
        return f"{self.name} ({format_number(self.size)} exemples{seed})"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "inconnu"


@dataclass(frozen=True)
class Machine:
    """La machine d'une mesure : modèle de processeur, cœurs, système, version de Python.

    Les champs qu'une source ne note pas restent ``None`` (affichés « non noté ») ;
    deux machines diffèrent dès qu'un champ connu des deux côtés diffère.

    >>> Machine("AMD EPYC", cores=2).same_as(Machine("Intel Xeon", cores=2))
    False
    """

    processor: str
    cores: int | None = None
    os: str | None = None
    python: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "processor", _check_text("machine.processor", self.processor, prose=False))
        if self.cores is not None and (isinstance(self.cores, bool) or not isinstance(self.cores, numbers.Integral) or self.cores < 1):
            raise LabkitError(f"`machine.cores` doit être un entier ≥ 1 ou None, reçu {self.cores!r}.")

    @classmethod
    def current(cls) -> "Machine":
        """La machine qui exécute ce code."""
        return cls(_cpu_model(), os.cpu_count(), f"{platform.system()} {platform.release()}".strip(), platform.python_version())

    @classmethod
    def from_environment(cls, env: dict) -> "Machine":
        """Depuis le dictionnaire de :func:`labkit.optimize.measure.environment` (clés ``processeur``, ``cœurs``, ``python``)."""
        if not isinstance(env, dict) or "processeur" not in env:
            raise LabkitError(
                f"`environment` doit être le dictionnaire de measure.environment() (avec la clé 'processeur'), reçu {type(env).__name__}."
            )
        return cls(str(env["processeur"]), env.get("cœurs"), env.get("os"), env.get("python"))

    def same_as(self, other: "Machine") -> bool:
        for name in ("processor", "cores", "os", "python"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and mine != theirs:
                return False
        return True

    def describe(self) -> str:
        cores = f"{self.cores} cœurs" if self.cores is not None else "cœurs non notés"
        return ", ".join(
            [self.processor, cores, self.os or "système non noté", f"Python {self.python}" if self.python else "Python non noté"]
        )

    def as_tags(self) -> dict:
        """Étiquettes MLflow (``labkit.machine.*``) que :meth:`Measurement.from_mlflow_run` sait relire."""
        return {f"labkit.machine.{k}": str(v) for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Spread:
    """La dispersion d'un temps : un intervalle ``[low, high]`` et ce qu'il représente (ex. « médiane–p90 », « IQR »)."""

    low: float
    high: float
    kind: str
    runs: int | None = None

    def __post_init__(self):
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
                raise LabkitError(
                    f"`spread.{name}` doit être un nombre fini mesuré, reçu {value!r} : une dispersion manquante est une erreur."
                )
            object.__setattr__(self, name, float(value))
        if self.low > self.high:
            raise LabkitError(f"`spread` : la borne basse ({self.low:g}) dépasse la borne haute ({self.high:g}).")
        object.__setattr__(self, "kind", _check_text("spread.kind", self.kind, prose=False))

    def overlaps(self, other: "Spread") -> bool:
        return max(self.low, other.low) <= min(self.high, other.high)


@dataclass(frozen=True)
class Source:
    """D'où vient un chiffre : ``kind`` (``compare``, ``mlflow``, ``benchmark``, ``diagnosis``, ``latency``),
    ``reference`` (identifiant du run, chemin du fichier, titre du rapport…) et ``detail`` (ligne, colonne, expérience)."""

    kind: str
    reference: str
    detail: str = ""

    def __post_init__(self):
        if self.kind not in SOURCE_KINDS:
            raise LabkitError(
                f"`source.kind` doit être l'une de ces sources : {', '.join(repr(k) for k in SOURCE_KINDS)} ; reçu {self.kind!r}. "
                f"{_TYPED_NUMBER[0].upper()}{_TYPED_NUMBER[1:]}."
            )
        object.__setattr__(self, "reference", _check_text("source.reference", self.reference, prose=False))
        object.__setattr__(self, "detail", _check_text("source.detail", self.detail, allow_empty=True, prose=False))

    def describe(self) -> str:
        detail = f", {self.detail}" if self.detail else ""
        return f"{SOURCE_KINDS[self.kind]} « {self.reference} »{detail}"


# --------------------------------------------------------------------------- mesures


def _is_timing(unit: str) -> bool:
    return unit in TIME_UNITS


def _is_size(unit: str) -> bool:
    return unit in SIZE_UNITS


@dataclass(frozen=True)
class Measurement:
    """Une valeur mesurée et tout ce qu'il faut pour la refaire.

    ``quantity`` dit ce qui a été mesuré (« précision », « latence b1 médiane »,
    « taille du fichier »…), ``data`` sur quelles données, ``engine`` par quel moteur
    (avec sa version), ``threads`` avec combien de fils, ``batch_size`` la taille de
    lot (obligatoire pour une latence), ``spread`` la dispersion (obligatoire pour
    un temps), ``measured_at`` quand (ISO 8601), ``machine`` où et ``source`` d'où
    vient le chiffre. ``direction`` (``"higher"`` ou ``"lower"``) est déduite de
    ``quantity`` et de l'unité quand on ne la donne pas.

    Construisez-la depuis ce qui l'a produite : :meth:`from_compare_table`,
    :meth:`from_mlflow_run`, :meth:`from_benchmark_file`, :meth:`from_diagnosis`,
    :meth:`from_latency_stats`. Une valeur NaN ou infinie est refusée.
    """

    value: float
    unit: str
    quantity: str
    data: DataRef
    machine: Machine
    source: Source
    measured_at: str
    engine: str | None = None
    threads: int | None = None
    batch_size: int | None = None
    spread: Spread | None = None
    direction: str | None = None

    def __post_init__(self):
        value = self.value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise LabkitError(f"`value` doit être un nombre mesuré, reçu {value!r} ({type(value).__name__}).")
        value = float(value)
        if not math.isfinite(value):
            raise LabkitError(
                f"`value` de « {self.quantity} » vaut {value} : une mesure manquante (NaN) ou infinie ne peut pas entrer dans un rapport."
            )
        object.__setattr__(self, "value", value)
        if not isinstance(self.unit, str):
            raise LabkitError(f'`unit` doit être un texte ("ms", "ko", "proportion", "" pour sans unité), reçu {self.unit!r}.')
        object.__setattr__(self, "quantity", _check_text("quantity", self.quantity, prose=False))
        for name, kind in (("data", DataRef), ("machine", Machine), ("source", Source)):
            if not isinstance(getattr(self, name), kind):
                raise LabkitError(f"`{name}` doit être un objet {kind.__name__}, reçu {type(getattr(self, name)).__name__}.")
        object.__setattr__(self, "measured_at", _iso("measured_at", self.measured_at))
        if self.engine is not None:
            object.__setattr__(self, "engine", _check_text("engine", self.engine, prose=False))
        for name in ("threads", "batch_size"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1):
                raise LabkitError(f"`{name}` doit être un entier ≥ 1 ou None, reçu {v!r}.")
        if self.unit == PROPORTION and not 0 <= value <= 1:
            raise LabkitError(f"`value` de « {self.quantity} » est une proportion : elle doit être entre 0 et 1, reçu {value:g}.")
        if self.spread is not None and not isinstance(self.spread, Spread):
            raise LabkitError(f"`spread` doit être un objet Spread, reçu {type(self.spread).__name__}.")
        if _is_timing(self.unit):
            missing = [n for n in ("engine", "threads", "spread") if getattr(self, n) is None]
            if "latence" in self.quantity.lower() and self.batch_size is None:
                missing.append("batch_size")
            if missing:
                raise LabkitError(
                    f"« {self.quantity} » est un temps : il faut aussi {', '.join(f'`{m}`' for m in missing)} "
                    "(moteur, nombre de fils, dispersion mesurée, taille de lot) pour qu'on puisse le comparer et le refaire."
                )
            if not self.spread.low <= value <= self.spread.high:
                raise LabkitError(
                    f"`spread` [{self.spread.low:g}, {self.spread.high:g}] ne contient pas la valeur {value:g} de « {self.quantity} »."
                )
        if self.direction is None:
            object.__setattr__(self, "direction", _infer_direction(self.quantity, self.unit))
        elif self.direction not in DIRECTIONS:
            raise LabkitError(f"`direction` doit valoir 'higher', 'lower' ou None, reçu {self.direction!r}.")

    # ----------------------------------------------------------------- affichage

    @property
    def is_timing(self) -> bool:
        return _is_timing(self.unit)

    def format(self) -> str:
        """La valeur et son unité, à la française (``"0,472 ms"``, ``"95,1 %"``)."""
        return format_value(self.value, self.unit)

    def describe_spread(self) -> str:
        if self.spread is None:
            return ""
        runs = f", {self.spread.runs} exécutions" if self.spread.runs else ""
        low = format_number(self.spread.low)
        return f"{low}–{format_value(self.spread.high, self.unit)} ({self.spread.kind}{runs})"

    def provenance(self) -> dict:
        """Les éléments de provenance, en français, prêts à afficher."""
        return {
            "grandeur": self.quantity,
            "valeur": self.format(),
            "données": self.data.describe(),
            "moteur": self.engine or "—",
            "fils": str(self.threads) if self.threads else "—",
            "lot": str(self.batch_size) if self.batch_size else "—",
            "dispersion": self.describe_spread() or "—",
            "date": self.measured_at.replace("T", " "),
            "machine": self.machine.describe(),
            "source": self.source.describe(),
        }

    def __str__(self) -> str:
        return f"{self.quantity} : {self.format()} ({self.source.describe()})"

    # ----------------------------------------------------------------- constructeurs

    @classmethod
    def from_compare_table(
        cls,
        table,
        row: str,
        column: str,
        *,
        data: DataRef,
        threads: int | None = None,
        machine: Machine | None = None,
        environment: dict | None = None,
        measured_at=None,
        runs: int | None = None,
    ) -> "Measurement":
        """Une case du tableau de :func:`labkit.optimize.measure.compare`.

        ``table`` est l'objet renvoyé par ``compare`` (son environnement donne la machine
        et la version du moteur) ou son ``DataFrame`` (passez alors ``machine`` ou
        ``environment``). ``row`` est le nom de la variante, ``column`` une colonne
        mesurée : ``taille (ko)``, ``zippé (ko)``, ``précision``, ``paramètres`` ou
        ``latence bN (ms)`` (la dispersion est prise dans ``p90 bN (ms)``). Le tableau ne
        note pas le nombre de fils : passez ``threads`` (celui donné à ``compare``) pour
        une latence. ``measured_at`` vaut par défaut l'instant du relevé (le tableau n'a pas d'horodatage).
        """
        frame = getattr(table, "table", table)
        if environment is None:
            environment = getattr(table, "environment", None) or None
        if not hasattr(frame, "loc") or not hasattr(frame, "columns"):
            raise LabkitError(f"`table` doit être le résultat de measure.compare (ou son DataFrame), reçu {type(table).__name__}.")
        if machine is None:
            if environment is None:
                raise LabkitError(
                    "`machine` manque : ce tableau ne dit pas sur quelle machine il a été mesuré. Passez l'objet renvoyé "
                    "par compare (il garde son environnement), `environment=` ou `machine=Machine.current()`."
                )
            machine = Machine.from_environment(environment)
        cell = _table_cell(frame, row, column)
        engine = _engine_with_version(str(frame.loc[row, "moteur"]), environment) if "moteur" in frame.columns else None
        return cls._from_cell(
            cell,
            column,
            lambda c: _table_cell(frame, row, c, allow_missing=True),
            data=data,
            engine=engine,
            threads=threads,
            machine=machine,
            measured_at=measured_at or _now(),
            runs=runs,
            source=Source("compare", str(row), f"colonne « {column} »"),
        )

    @classmethod
    def _from_cell(cls, value, column: str, lookup, *, data, engine, threads, machine, measured_at, runs, source):
        if column.startswith("×") or column.startswith("p90"):
            raise LabkitError(
                f"La colonne « {column} » est calculée à partir d'autres mesures (ou n'est qu'une dispersion) : "
                "prenez les deux mesures brutes et laissez Comparison calculer le rapport."
            )
        latency = re.fullmatch(r"latence b(\d+) \((ms|s)\)", column)
        if latency:
            batch, unit = int(latency.group(1)), latency.group(2)
            high = lookup(f"p90 b{batch} ({unit})")
            if high is None:
                raise LabkitError(f"La colonne « p90 b{batch} ({unit}) » manque : sans dispersion, une latence ne se compare pas.")
            if threads is None:
                raise LabkitError(
                    "`threads` manque : le tableau ne note pas le nombre de fils des latences ; passez celui de la "
                    "mesure (1 par défaut dans compare)."
                )
            return cls(
                value,
                unit,
                f"latence b{batch} médiane",
                data,
                machine,
                source,
                measured_at,
                engine=engine,
                threads=threads,
                batch_size=batch,
                spread=Spread(value, high, "médiane–p90", runs),
            )
        known = {
            "taille (ko)": ("taille du fichier", "ko"),
            "zippé (ko)": ("taille zippée", "ko"),
            "précision": ("précision", PROPORTION),
            "paramètres": ("nombre de paramètres", ""),
        }
        if column not in known:
            raise LabkitError(f"`column` doit être une colonne mesurée : {', '.join(known)} ou « latence bN (ms) » ; reçu {column!r}.")
        quantity, unit = known[column]
        return cls(
            value,
            unit,
            quantity,
            data,
            machine,
            source,
            measured_at,
            engine=engine,
            threads=threads,
            direction="lower" if column == "paramètres" else None,
        )

    @classmethod
    def from_latency_stats(
        cls, stats: dict, *, engine: str, data: DataRef, machine: Machine | None = None, measured_at=None
    ) -> "Measurement":
        """Le dictionnaire de :func:`labkit.optimize.measure.measure_latency` (médiane, p90, fils, lot, exécutions).

        ``machine`` vaut par défaut la machine courante : ce dictionnaire vient d'être mesuré ici.
        """
        needed = ("batch", "threads", "runs", "median_ms", "p90_ms")
        if not isinstance(stats, dict) or any(k not in stats for k in needed):
            raise LabkitError(f"`stats` doit être le dictionnaire de measure_latency (clés {', '.join(needed)}), reçu {stats!r:.80}.")
        median = stats["median_ms"]
        return cls(
            median,
            "ms",
            f"latence b{stats['batch']} médiane",
            data,
            machine or Machine.current(),
            Source("latency", engine, f"{stats['runs']} exécutions"),
            measured_at or _now(),
            engine=engine,
            threads=stats["threads"],
            batch_size=stats["batch"],
            spread=Spread(median, stats["p90_ms"], "médiane–p90", stats["runs"]),
        )

    @classmethod
    def from_benchmark_file(
        cls, path, row: str, column: str, *, data: DataRef, threads: int | None = None, machine: Machine | None = None, measured_at=None
    ) -> "Measurement":
        """Une case d'un tableau de ``benchmarks/results/*.md`` (ligne = première colonne, ``column`` = en-tête).

        La machine, les versions des moteurs, le nombre de fils (« sur **un fil** ») et le
        nombre d'exécutions (« médiane de 40 exécutions ») sont lus dans le texte du
        fichier quand il les note ; sinon passez ``machine`` / ``threads``. Faute de date
        dans le fichier, ``measured_at`` vaut sa date de modification.
        """
        path = Path(path)
        if not path.is_file():
            raise LabkitError(f"`path` : fichier de banc d'essai introuvable : {path}")
        text = path.read_text(encoding="utf-8")
        header, cells = _markdown_row(text, row, column, path)
        versions: dict = {}
        parsed_machine = None
        line = re.search(r"^Machine\s*:\s*(.+)$", text, flags=re.MULTILINE)
        if line:
            sentence = re.split(r"\.\s", line.group(1), maxsplit=1)[0]  # la phrase suivante (fils, exécutions) n'est pas une version
            parts = [p.strip() for p in sentence.split(";")]
            hardware = [p.strip() for p in parts[0].split(",")]
            cores = re.search(r"(\d+)\s*cœurs", parts[0])
            for item in ",".join(parts[1:]).split(","):
                found = re.match(r"\s*(.+?)\s+(\d[\w.+\-]*)\s*\.?$", item)
                if found:
                    versions[found.group(1).strip()] = found.group(2).rstrip(".")
            parsed_machine = Machine(hardware[0], int(cores.group(1)) if cores else None, None, versions.get("Python"))
        machine = machine or parsed_machine
        if machine is None:
            raise LabkitError(f"Le fichier {path.name} ne note pas sa machine (ligne « Machine : … ») : passez `machine=`.")
        if threads is None:
            if re.search(r"\bun fil\b", text):
                threads = 1
            else:
                found = re.search(r"(\d+)\s+fils\b", text)
                threads = int(found.group(1)) if found else None
        runs = re.search(r"médiane de (\d+) exécutions", text)
        engine = None
        if "moteur" in header:
            name = cells[header.index("moteur")]
            version = next((v for k, v in versions.items() if name.lower().startswith(k.lower())), None)
            engine = f"{name} {version}" if version else name
        detail = f"ligne « {row} », colonne « {column} »"
        if measured_at is None:
            measured_at = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).astimezone()
            detail += ", date du fichier (le banc ne note pas la sienne)"

        def lookup(col):
            if col not in header:
                return None
            return _parse_cell(cells[header.index(col)], col, row, path)

        value = _parse_cell(cells[header.index(column)], column, row, path)
        return cls._from_cell(
            value,
            column,
            lookup,
            data=data,
            engine=engine,
            threads=threads,
            machine=machine,
            measured_at=measured_at,
            runs=int(runs.group(1)) if runs else None,
            source=Source("benchmark", _display_path(path), detail),
        )

    @classmethod
    def from_mlflow_run(
        cls,
        run_id: str,
        metric: str,
        *,
        data: DataRef | None = None,
        unit: str | None = None,
        quantity: str | None = None,
        tracking_uri: str | None = None,
        machine: Machine | None = None,
        engine: str | None = None,
        threads: int | None = None,
        batch_size: int | None = None,
        spread_metrics: tuple[str, str] | None = None,
        step: int | None = None,
        direction: str | None = None,
    ) -> "Measurement":
        """La métrique ``metric`` d'un run MLflow (la dernière époque, ou ``step``), relue dans le magasin.

        La date est celle où MLflow a enregistré la valeur. La machine et les données sont
        relues dans les étiquettes ``labkit.machine.*`` / ``labkit.data.*`` du run (posées par
        :func:`log_provenance`) ou passées en argument. Pour un temps, ``spread_metrics``
        nomme les deux métriques de la dispersion (ex. ``("latence_p10", "latence_p90")``).
        ``tracking_uri`` vaut par défaut le magasin courant (:func:`labkit.tracking.use_local_store`).
        """
        try:
            import mlflow
            from mlflow.exceptions import MlflowException
        except ImportError:
            raise LabkitError('MLflow n\'est pas installé : pip install "ameliorer-dl[course]" (paquet mlflow).') from None
        client = mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
        try:
            run = client.get_run(run_id)
        except MlflowException:
            raise LabkitError(f"`run_id` : aucun run « {run_id} » dans le magasin {tracking_uri or mlflow.get_tracking_uri()}.") from None
        tags = run.data.tags

        def value_of(name: str):
            history = client.get_metric_history(run_id, name)
            if not history:
                raise LabkitError(f"Le run « {run_id} » n'a pas de métrique « {name} » ; métriques présentes : {sorted(run.data.metrics)}.")
            history = sorted(history, key=lambda m: (m.step, m.timestamp))
            if step is None:
                return history[-1]
            chosen = [m for m in history if m.step == step]
            if not chosen:
                raise LabkitError(f"`step` : la métrique « {name} » n'a pas d'époque {step} ; époques : {[m.step for m in history]}.")
            return chosen[-1]

        point = value_of(metric)
        if machine is None:
            if "labkit.machine.processor" not in tags:
                raise LabkitError(
                    f"Le run « {run_id} » ne dit pas sur quelle machine il a tourné (étiquettes labkit.machine.*) : "
                    "passez `machine=` ou appelez log_provenance() pendant le run."
                )
            cores = tags.get("labkit.machine.cores")
            machine = Machine(
                tags["labkit.machine.processor"],
                int(cores) if cores else None,
                tags.get("labkit.machine.os"),
                tags.get("labkit.machine.python"),
            )
        if data is None:
            if "labkit.data.name" not in tags or "labkit.data.size" not in tags:
                raise LabkitError(
                    f"`data` manque : le run « {run_id} » ne note pas ses données (étiquettes labkit.data.*) ; passez `data=DataRef(...)`."
                )
            seed = tags.get("labkit.data.seed")
            data = DataRef(tags["labkit.data.name"], int(tags["labkit.data.size"]), int(seed) if seed else None)
        lowered = metric.lower()
        if unit is None:
            if "acc" in lowered:
                unit = PROPORTION
            else:
                raise LabkitError(f'`unit` manque : quelle est l\'unité de la métrique « {metric} » ("ms", "ko", "" sans unité…) ?')
        if quantity is None:
            names = {
                "val_accuracy": "précision de validation",
                "accuracy": "précision d'entraînement",
                "val_loss": "perte de validation",
                "loss": "perte d'entraînement",
            }
            quantity = names.get(metric, metric)
        spread = None
        if spread_metrics is not None:
            low, high = (value_of(m).value for m in spread_metrics)
            spread = Spread(low, high, f"{spread_metrics[0]}–{spread_metrics[1]}")
        experiment = client.get_experiment(run.info.experiment_id).name
        when = datetime.fromtimestamp(point.timestamp / 1000, timezone.utc).astimezone()
        return cls(
            point.value,
            unit,
            quantity,
            data,
            machine,
            Source("mlflow", run_id, f"expérience « {experiment} », métrique « {metric} », époque {point.step}"),
            when,
            engine=engine,
            threads=threads,
            batch_size=batch_size,
            spread=spread,
            direction=direction,
        )

    @classmethod
    def from_diagnosis(
        cls,
        report,
        key: str,
        *,
        data: DataRef,
        machine: Machine | None = None,
        unit: str | None = None,
        quantity: str | None = None,
        measured_at=None,
    ) -> "Measurement":
        """Un chiffre d'un rapport de :mod:`labkit.diagnosis` (``report.values[key]``).

        Les clés connues (``gap``, ``val_accuracy``, ``imbalance_ratio``, ``min_recall``,
        ``auc``, ``n_exact``, ``std_ratio``…) ont déjà leur grandeur et leur unité ; pour
        une autre clé, passez ``unit`` et ``quantity``. ``machine`` vaut par défaut la
        machine courante et ``measured_at`` l'instant présent : un diagnostic se calcule
        dans la session qui le rapporte.
        """
        values = getattr(report, "values", None)
        if not isinstance(values, dict) or not hasattr(report, "flagged"):
            raise LabkitError(
                f"`report` doit être un rapport de labkit.diagnosis (avec .values et .flagged), reçu {type(report).__name__}."
            )
        if key not in values:
            raise LabkitError(f"`key` : le rapport n'a pas de valeur « {key} » ; valeurs présentes : {sorted(values)}.")
        raw = values[key]
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            raise LabkitError(f"`key` : « {key} » vaut {raw!r}, ce n'est pas une mesure chiffrée.")
        known = _DIAGNOSIS_KEYS.get(key)
        if known is None and (unit is None or quantity is None):
            raise LabkitError(
                f"`unit` et `quantity` manquent : la clé « {key} » n'est pas connue ; dites ce qu'elle mesure et dans quelle unité."
            )
        default_quantity, default_unit, scale = known or (quantity, unit, 1.0)
        title = getattr(report, "title", None) or _HISTORY_TITLE
        return cls(
            float(raw) * scale,
            unit if unit is not None else default_unit,
            quantity or default_quantity,
            data,
            machine or Machine.current(),
            Source("diagnosis", title, f"valeur « {key} »"),
            measured_at or _now(),
        )


_HISTORY_TITLE = "Historique d'entraînement"  # diagnose_history renvoie un verdict sans titre
_DIAGNOSIS_KEYS = {
    # clé : (grandeur, unité, facteur appliqué à la valeur)
    "gap": ("écart de précision entraînement − validation", "points", 100.0),
    "train_accuracy": ("précision d'entraînement finale", PROPORTION, 1.0),
    "val_accuracy": ("précision de validation finale", PROPORTION, 1.0),
    "turning_epoch": ("époque du minimum de la perte de validation", "", 1.0),
    "imbalance_ratio": ("rapport effectif majoritaire / minoritaire", "", 1.0),
    "majority_baseline": ("précision d'un modèle qui répond toujours la classe majoritaire", PROPORTION, 1.0),
    "accuracy": ("précision", PROPORTION, 1.0),
    "balanced_accuracy": ("précision équilibrée", PROPORTION, 1.0),
    "macro_f1": ("F1 macro", "", 1.0),
    "mcc": ("MCC", "", 1.0),
    "min_recall": ("rappel de la classe la moins reconnue", PROPORTION, 1.0),
    "auc": ("AUC du classifieur de domaine", "", 1.0),
    "n_shifted_features": ("variables significativement décalées", "", 1.0),
    "n_exact": ("exemples de test identiques à un exemple d'entraînement", "", 1.0),
    "n_near": ("exemples de test quasi identiques à un exemple d'entraînement", "", 1.0),
    "near_fraction": ("part des exemples de test quasi dupliqués", PROPORTION, 1.0),
    "shared_groups": ("groupes présents des deux côtés", "", 1.0),
    "rows_in_shared_groups": ("exemples de test dans un groupe partagé", "", 1.0),
    "validation_score": ("score de validation", "", 1.0),
    "fresh_score": ("score sur données neuves", "", 1.0),
    "std_ratio": ("rapport des écarts-types extrêmes", "", 1.0),
    "max_center": ("centre le plus éloigné de zéro (en écarts-types)", "", 1.0),
    "constant": ("variables constantes", "", 1.0),
}


def _infer_direction(quantity: str, unit: str) -> str | None:
    lowered = quantity.lower()
    if _is_timing(unit) or _is_size(unit) or any(w in lowered for w in _LOWER_WORDS):
        return "lower"
    if unit == PROPORTION or any(w in lowered for w in _HIGHER_WORDS):
        return "higher"
    return None


def _engine_with_version(engine: str, environment: dict | None) -> str:
    if not environment:
        return engine
    keys = {
        "pytorch": "torch",
        "onnx runtime": "onnxruntime",
        "litert": "litert",
        "keras": "keras",
        "tensorflow": "tensorflow",
        "python": "python",
    }
    for prefix, key in keys.items():
        if engine.lower().startswith(prefix) and environment.get(key):
            return f"{engine} {environment[key]}"
    return engine


def _table_cell(frame, row: str, column: str, *, allow_missing: bool = False):
    if row not in frame.index:
        raise LabkitError(f"`row` : pas de variante « {row} » dans le tableau ; variantes : {list(frame.index)}.")
    if column not in frame.columns:
        if allow_missing:
            return None
        raise LabkitError(f"`column` : pas de colonne « {column} » dans le tableau ; colonnes : {list(frame.columns)}.")
    value = frame.loc[row, column]
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise LabkitError(
            f"La case « {row} » / « {column} » ne contient pas de mesure ({value!r}) : une mesure manquante est "
            f"une erreur, pas une case vide."
        )
    return float(value)


def _markdown_row(text: str, row: str, column: str, path: Path) -> tuple[list[str], list[str]]:
    header = None
    tables = []
    for line in text.splitlines():
        if not line.strip().startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            tables.append(header)
        elif all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        elif cells[0] == row and column in header:
            if len(cells) != len(header):
                raise LabkitError(f"{path.name} : la ligne « {row} » n'a pas autant de cases que son en-tête.")
            return header, cells
    rows = [line.strip().strip("|").split("|")[0].strip() for line in text.splitlines() if line.strip().startswith("|")]
    if not any(column in h for h in tables):
        raise LabkitError(f"`column` : aucun tableau de {path.name} n'a de colonne « {column} » ; en-têtes : {tables}.")
    raise LabkitError(f"`row` : pas de ligne « {row} » dans le tableau de {path.name} qui a la colonne « {column} » ; lignes : {rows}.")


def _parse_cell(text: str, column: str, row: str, path: Path) -> float:
    cleaned = text.replace(NNBSP, "").replace(NBSP, "").replace(" ", "").replace("**", "").rstrip("%")
    try:
        value = float(cleaned.replace(",", "."))
    except ValueError:
        raise LabkitError(
            f"{path.name} : la case « {row} » / « {column} » ne contient pas de mesure ({text!r}) : "
            "une mesure manquante est une erreur, pas une case vide."
        ) from None
    if not math.isfinite(value):
        raise LabkitError(f"{path.name} : la case « {row} » / « {column} » vaut {text!r}, pas une mesure finie.")
    return value


#: Les résultats des bancs d'essai du cours, livrés avec labkit (copies de ``benchmarks/results/*.md``).
BENCHMARKS_DIR = Path(__file__).resolve().with_name("bancs")


def course_benchmark(name: str = "optimization") -> Path:
    """Le fichier de résultats d'un banc d'essai du cours, livré avec labkit (copie de ``benchmarks/results/<name>.md``).

    Il a été mesuré sur la machine qu'il note (ligne « Machine : … »), pas sur la vôtre :
    ses chiffres se lisent avec :meth:`Measurement.from_benchmark_file` et ne se comparent
    qu'entre eux.

    >>> course_benchmark().name
    'optimization.md'
    """
    available = sorted(p.stem for p in BENCHMARKS_DIR.glob("*.md"))
    if name not in available:
        raise LabkitError(f"`name` : pas de banc d'essai « {name} » livré avec labkit ; bancs disponibles : {available}.")
    return BENCHMARKS_DIR / f"{name}.md"


def _display_path(path: Path) -> str:
    """Le chemin d'un fichier de résultats tel que le rapport le cite : relatif au paquet s'il est livré avec labkit."""
    package = Path(__file__).resolve().parents[1]
    try:
        return str(Path(package.name) / path.resolve().relative_to(package))
    except ValueError:
        return str(path)


def log_provenance(data: DataRef | None = None, machine: Machine | None = None) -> dict:
    """Note dans le run MLflow actif la machine (et les données) : :meth:`Measurement.from_mlflow_run` les relira.

    Renvoie les étiquettes posées.
    """
    try:
        import mlflow
    except ImportError:
        raise LabkitError('MLflow n\'est pas installé : pip install "ameliorer-dl[course]" (paquet mlflow).') from None
    if mlflow.active_run() is None:
        raise LabkitError("Aucun run MLflow actif : appelez log_provenance() dans un bloc `with mlflow.start_run():`.")
    tags = (machine or Machine.current()).as_tags()
    if data is not None:
        tags.update({"labkit.data.name": data.name, "labkit.data.size": str(data.size)})
        if data.seed is not None:
            tags["labkit.data.seed"] = str(data.seed)
    mlflow.set_tags(tags)
    return tags


# --------------------------------------------------------------------------- comparaisons


def _as_measurement(name: str, value) -> Measurement:
    _reject_number(name, value)
    if value is None:
        raise LabkitError(f"`{name}` manque : une mesure manquante est une erreur, pas une case vide.")
    if not isinstance(value, Measurement):
        raise LabkitError(f"`{name}` doit être une mesure (Measurement), reçu {type(value).__name__} : {_TYPED_NUMBER}.")
    return value


def _factor_text(factor: float) -> str:
    return f"×{format_number(factor, 2 if factor < 10 else 1 if factor < 100 else 0)}"


@dataclass(frozen=True)
class Comparison:
    """Avant / après d'une même grandeur : l'écart, son signe, son sens et, pour un temps, s'il dépasse la dispersion.

    Refuse deux mesures d'unités ou de grandeurs différentes, ou prises sur des données
    différentes ; pour un temps, refuse aussi des moteurs ou des nombres de fils
    différents. Deux machines différentes donnent un avertissement (``warnings``).

    Pour un temps, l'écart est jugé *soutenu par la dispersion mesurée* quand les deux
    intervalles de dispersion sont disjoints. Avec la dispersion médiane–p90 de
    ``measure.compare``, une variante plus rapide doit donc avoir son 90ᵉ centile
    sous la médiane de la référence ; sinon l'écart est « non significatif d'après la
    dispersion mesurée » (le verdict reste calculé, mais il faut plus d'exécutions
    ou une machine plus calme pour le défendre).
    """

    before: Measurement
    after: Measurement

    def __post_init__(self):
        before, after = _as_measurement("before", self.before), _as_measurement("after", self.after)
        if before.unit != after.unit:
            raise LabkitError(
                f"Unités différentes pour « {before.quantity} » : avant en {before.unit or 'sans unité'!r}, après en "
                f"{after.unit or 'sans unité'!r}. "
                "Comparez des mesures de même unité."
            )
        if before.quantity != after.quantity or before.batch_size != after.batch_size:
            raise LabkitError(f"`before` et `after` ne mesurent pas la même chose : « {before.quantity} » contre « {after.quantity} ».")
        if before.data != after.data:
            raise LabkitError(
                f"« {before.quantity} » : avant mesuré sur {before.data.describe()}, après sur {after.data.describe()}. "
                "Un avant/après se mesure sur les mêmes données."
            )
        if before.is_timing:
            for name, label in (("engine", "moteurs"), ("threads", "nombres de fils")):
                if getattr(before, name) != getattr(after, name):
                    raise LabkitError(
                        f"« {before.quantity} » : {label} différents (avant {getattr(before, name)!r}, après {getattr(after, name)!r}). "
                        "Un temps ne se compare qu'au même moteur avec le même nombre de fils."
                    )
        if before.direction is None or after.direction != before.direction:
            raise LabkitError(
                f"On ne sait pas dans quel sens « {before.quantity} » s'améliore : construisez les mesures avec "
                "`direction='higher'` ou `direction='lower'`."
            )

    # ----------------------------------------------------------------- calculs

    @property
    def quantity(self) -> str:
        return self.before.quantity

    @property
    def unit(self) -> str:
        return self.before.unit

    @property
    def difference(self) -> float:
        """``after − before``, dans l'unité des mesures (négatif quand la valeur baisse)."""
        return self.after.value - self.before.value

    @property
    def ratio(self) -> float | None:
        """``after / before`` (``None`` si ``before`` vaut zéro)."""
        return self.after.value / self.before.value if self.before.value else None

    @property
    def improved(self) -> bool | None:
        """``True`` si la grandeur va dans le bon sens, ``False`` si elle recule, ``None`` si elle n'a pas bougé."""
        if self.difference == 0:
            return None
        return (self.difference > 0) == (self.before.direction == "higher")

    @property
    def significant(self) -> bool | None:
        """Pour un temps : l'écart sort-il de la dispersion mesurée (intervalles disjoints) ? ``None`` sinon."""
        if not self.before.is_timing:
            return None
        return not self.before.spread.overlaps(self.after.spread)

    @property
    def same_machine(self) -> bool:
        return self.before.machine.same_as(self.after.machine)

    @property
    def warnings(self) -> tuple[str, ...]:
        if self.same_machine:
            return ()
        return (
            f"« {self.quantity} » : avant et après ont été mesurés sur deux machines différentes "
            f"({self.before.machine.describe()} ; {self.after.machine.describe()}) ; l'écart mêle l'effet de la "
            "modification et celui de la machine.",
        )

    # ----------------------------------------------------------------- textes

    @property
    def change_text(self) -> str:
        """L'écart signé : « +1,2 point » pour une proportion, « −0,768 ms (−61,9 %) » sinon."""
        diff = self.difference
        if diff == 0:
            return "aucun écart"
        sign = "+" if diff > 0 else MINUS
        if self.unit == PROPORTION:
            points = abs(diff) * 100
            return f"{sign}{format_number(points, 1)}{NBSP}{_plural(points, 'point')}"
        text = f"{sign}{format_value(abs(diff), self.unit)}"
        if self.before.value:
            text += f" ({sign}{format_number(abs(diff) / abs(self.before.value) * 100, 1)}{NBSP}%)"
        return text

    @property
    def factor_text(self) -> str:
        """Le facteur, pour un temps ou une taille : « ×2,63 plus rapide », « ×1,17 plus lent », « ×3,52 plus petit »."""
        if self.before.direction != "lower" or not (_is_timing(self.unit) or _is_size(self.unit) or "paramètres" in self.quantity):
            return ""
        if self.before.value <= 0 or self.after.value <= 0:
            return ""
        gain = self.before.value / self.after.value
        better, worse = ("plus rapide", "plus lent") if _is_timing(self.unit) else ("plus petit", "plus gros")
        if gain >= 1:
            return f"{_factor_text(gain)} {better}"
        return f"{_factor_text(1 / gain)} {worse}"

    @property
    def verdict(self) -> str:
        return {True: "amélioration", False: "régression", None: "inchangé"}[self.improved]

    @property
    def significance_text(self) -> str:
        if self.significant is None:
            return "—"
        if self.significant:
            return "écart soutenu par la dispersion mesurée"
        return "non significatif d'après la dispersion mesurée"

    @property
    def label(self) -> str:
        if self.before.is_timing:
            threads = f"{self.before.threads} {'fil' if self.before.threads == 1 else 'fils'}"
            return f"{self.quantity} ({self.before.engine}, {threads})"
        return self.quantity

    def summary(self) -> str:
        """Une phrase : « latence b1 médiane : 1,24 ms → 0,472 ms, −0,768 ms (−61,9 %), ×2,63 plus rapide — amélioration… »."""
        parts = [f"{self.label} : {self.before.format()} → {self.after.format()}, {self.change_text}"]
        if self.factor_text:
            parts.append(self.factor_text)
        text = ", ".join(parts) + f" — {self.verdict}"
        if self.significant is not None:
            text += f" ({self.significance_text})"
        return text

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------- rapports


@dataclass(frozen=True)
class Problem:
    """Un problème identifié et les mesures qui le prouvent (au moins une).

    Depuis un rapport de :mod:`labkit.diagnosis` : :meth:`from_diagnosis`.
    """

    description: str
    evidence: tuple
    advice: str = ""

    def __post_init__(self):
        object.__setattr__(self, "description", _check_text("description", self.description))
        if hasattr(self.evidence, "flagged") and hasattr(self.evidence, "values"):
            raise LabkitError(
                "`evidence` est un rapport de diagnostic : utilisez Problem.from_diagnosis(report, data=...) pour en tirer les mesures."
            )
        object.__setattr__(
            self, "evidence", _as_tuple("evidence", self.evidence, Measurement, minimum=1, what="mesure(s) qui prouvent le problème")
        )
        object.__setattr__(self, "advice", _check_text("advice", self.advice, allow_empty=True))

    @classmethod
    def from_diagnosis(
        cls, report, *, data: DataRef, keys=None, description: str | None = None, machine: Machine | None = None
    ) -> "Problem":
        """Un problème signalé par un rapport de :mod:`labkit.diagnosis` ; ses chiffres (``keys``, par défaut
        toutes les valeurs chiffrées connues) deviennent des mesures. Un rapport qui ne signale rien est refusé."""
        if not getattr(report, "flagged", False):
            verdict = getattr(report, "verdict", "?")
            raise LabkitError(f"`report` ne signale aucun problème (verdict : {verdict}) : il ne peut pas justifier un problème identifié.")
        values = getattr(report, "values", {})
        if keys is None:
            keys = [
                k
                for k, v in values.items()
                if k in _DIAGNOSIS_KEYS and isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))
            ]
        machine = machine or Machine.current()
        evidence = [Measurement.from_diagnosis(report, k, data=data, machine=machine) for k in keys]
        title = getattr(report, "title", None) or _HISTORY_TITLE
        return cls(description or f"{title} — {report.verdict}", evidence, getattr(report, "advice", "") or "")


@dataclass(frozen=True)
class Solution:
    """Une solution mise en œuvre et son impact mesuré (une ou plusieurs :class:`Comparison`)."""

    name: str
    description: str
    impact: tuple

    def __post_init__(self):
        object.__setattr__(self, "name", _check_text("name", self.name, prose=False))
        object.__setattr__(self, "description", _check_text("description", self.description))
        object.__setattr__(self, "impact", _as_tuple("impact", self.impact, Comparison, minimum=1, what="comparaison(s) avant/après"))


def report_environment() -> dict:
    """L'environnement du rapport : versions lues dans les métadonnées des paquets (rien n'est importé), processeur, fils.

    >>> list(report_environment())
    ['python', 'numpy', 'torch', 'onnxruntime', 'tensorflow', 'processeur', 'système', 'fils']
    """
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": platform.python_version()}
    for key, distributions in (
        ("numpy", ("numpy",)),
        ("torch", ("torch",)),
        ("onnxruntime", ("onnxruntime",)),
        ("tensorflow", ("tensorflow", "tensorflow-cpu")),
    ):
        env[key] = "non installé"
        for distribution in distributions:
            try:
                env[key] = version(distribution)
                break
            except PackageNotFoundError:
                pass
    machine = Machine.current()
    env["processeur"] = machine.processor
    env["système"] = machine.os
    threads = os.environ.get("OMP_NUM_THREADS")
    env["fils"] = f"OMP_NUM_THREADS={threads}" if threads else f"non fixé ({os.cpu_count()} cœurs visibles)"
    return env


def _collect_warnings(comparisons) -> tuple[str, ...]:
    warnings = []
    for c in comparisons:
        for w in c.warnings:
            if w not in warnings:
                warnings.append(w)
    machines = []
    for c in comparisons:
        for m in (c.before.machine, c.after.machine):
            if not any(m.same_as(known) for known in machines):
                machines.append(m)
    if len(machines) > 1:
        warnings.append(
            "Les mesures de ce rapport viennent de machines différentes : "
            + " ; ".join(m.describe() for m in machines)
            + ". Ne comparez entre elles que des lignes mesurées sur la même machine."
        )
    return tuple(warnings)


@dataclass(frozen=True)
class ImprovementReport:
    """Rapport d'amélioration d'un modèle : problèmes prouvés, solutions et leur impact, tableau avant/après, conclusion.

    Tout nombre vient d'une :class:`Measurement` ; un flottant ou un entier passé à la
    place d'une mesure ou d'une comparaison est refusé, comme un résultat chiffré écrit
    dans la conclusion. L'environnement (versions, processeur, fils) est noté à la création.
    """

    title: str
    author: str
    problems: tuple
    solutions: tuple
    comparison_rows: tuple
    conclusion: str
    recommendations: tuple = ()
    environment: dict = field(default_factory=report_environment)
    created_at: str = field(default_factory=_now)

    def __post_init__(self):
        object.__setattr__(self, "title", _check_text("title", self.title, prose=False))
        object.__setattr__(self, "author", _check_text("author", self.author, prose=False))
        object.__setattr__(self, "problems", _as_tuple("problems", self.problems, Problem, minimum=1, what="problème(s) identifié(s)"))
        object.__setattr__(
            self, "solutions", _as_tuple("solutions", self.solutions, Solution, minimum=1, what="solution(s) mise(s) en œuvre")
        )
        object.__setattr__(
            self,
            "comparison_rows",
            _as_tuple("comparison_rows", self.comparison_rows, Comparison, minimum=1, what="comparaison(s) avant/après"),
        )
        object.__setattr__(self, "conclusion", _check_text("conclusion", self.conclusion))
        object.__setattr__(self, "recommendations", _check_texts("recommendations", self.recommendations))
        object.__setattr__(self, "created_at", _iso("created_at", self.created_at))
        if not isinstance(self.environment, dict):
            raise LabkitError(f"`environment` doit être un dictionnaire, reçu {type(self.environment).__name__}.")

    @property
    def comparisons(self) -> tuple:
        """Toutes les comparaisons du rapport (impacts des solutions puis tableau avant/après)."""
        return tuple(c for s in self.solutions for c in s.impact) + self.comparison_rows

    @property
    def measurements(self) -> tuple:
        """Toutes les mesures du rapport, sans doublon, dans l'ordre où elles apparaissent."""
        seen = []
        for p in self.problems:
            seen.extend(p.evidence)
        for c in self.comparisons:
            seen.extend((c.before, c.after))
        return tuple(dict.fromkeys(seen))

    @property
    def warnings(self) -> tuple[str, ...]:
        return _collect_warnings(self.comparisons)


@dataclass(frozen=True)
class Technique:
    """Une technique d'optimisation : ce qui change, son effet mesuré (taille, latence, précision), quand l'employer, ses pièges.

    ``latency`` accepte une comparaison ou plusieurs (ex. lot de 1 et lot de 64).
    """

    name: str
    what_changed: str
    size: Comparison
    latency: tuple
    accuracy: Comparison
    when_to_use: str
    pitfalls: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "name", _check_text("name", self.name, prose=False))
        object.__setattr__(self, "what_changed", _check_text("what_changed", self.what_changed))
        object.__setattr__(self, "when_to_use", _check_text("when_to_use", self.when_to_use))
        object.__setattr__(self, "pitfalls", _check_texts("pitfalls", self.pitfalls))
        for name, check, expected in (
            ("size", _is_size, "une taille (octets, ko, Mo, Go)"),
            ("accuracy", lambda u: u == PROPORTION, "une précision (proportion)"),
        ):
            value = getattr(self, name)
            _reject_number(name, value)
            if not isinstance(value, Comparison):
                raise LabkitError(
                    f"`{name}` doit être une comparaison avant/après (Comparison), reçu {type(value).__name__} : une "
                    f"mesure manquante est une erreur."
                )
            if not check(value.unit):
                raise LabkitError(f"`{name}` doit comparer {expected}, reçu « {value.quantity} » en {value.unit!r}.")
        latency = _as_tuple("latency", self.latency, Comparison, minimum=1, what="comparaison(s) de latence")
        for c in latency:
            if not c.before.is_timing:
                raise LabkitError(f"`latency` doit comparer des temps, reçu « {c.quantity} » en {c.unit!r}.")
        object.__setattr__(self, "latency", latency)

    @property
    def comparisons(self) -> tuple:
        return (self.size, *self.latency, self.accuracy)


@dataclass(frozen=True)
class OptimizationSheet:
    """Fiche d'optimisation : une ligne mesurée par technique (taille, latence, précision), quand l'employer, ses pièges."""

    title: str
    author: str
    techniques: tuple
    notes: tuple = ()
    environment: dict = field(default_factory=report_environment)
    created_at: str = field(default_factory=_now)

    def __post_init__(self):
        object.__setattr__(self, "title", _check_text("title", self.title, prose=False))
        object.__setattr__(self, "author", _check_text("author", self.author, prose=False))
        object.__setattr__(
            self, "techniques", _as_tuple("techniques", self.techniques, Technique, minimum=1, what="technique(s) mesurée(s)")
        )
        object.__setattr__(self, "notes", _check_texts("notes", self.notes))
        object.__setattr__(self, "created_at", _iso("created_at", self.created_at))
        if not isinstance(self.environment, dict):
            raise LabkitError(f"`environment` doit être un dictionnaire, reçu {type(self.environment).__name__}.")

    @property
    def comparisons(self) -> tuple:
        return tuple(c for t in self.techniques for c in t.comparisons)

    @property
    def measurements(self) -> tuple:
        return tuple(dict.fromkeys(m for c in self.comparisons for m in (c.before, c.after)))

    @property
    def warnings(self) -> tuple[str, ...]:
        return _collect_warnings(self.comparisons)
