"""labkit.config : schémas validés, YAML, erreurs en français ; le banc d'optimisation s'en sert."""

import sys
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import Field

from labkit.config import Schema, describe_errors, load_config, parse_config, save_config
from labkit.errors import ConfigError


class Optimizer(Schema):
    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(3e-3, gt=0, le=1)


class Run(Schema):
    name: str = Field(min_length=1)
    epochs: int = Field(10, ge=1)
    optimizer: Optimizer = Optimizer()


def test_valid_configuration_gets_its_defaults_and_is_frozen():
    config = parse_config({"name": "essai", "optimizer": {"lr": "3e-3"}}, Run)  # PyYAML lit « 3e-3 » comme un texte
    assert config.epochs == 10 and config.optimizer.name == "adam" and config.optimizer.lr == 0.003
    with pytest.raises(Exception):
        config.epochs = 3


def test_every_error_is_reported_in_french_with_field_value_and_what_is_allowed():
    with pytest.raises(ConfigError) as caught:
        parse_config({"epochs": 0, "optimizer": {"name": "adamm", "momentum": 0.9}, "optimiser": {}}, Run)
    message = str(caught.value)
    assert "5 erreur(s)" in message
    assert "- name : champ obligatoire manquant" in message
    assert "- epochs : doit être ≥ 1 (reçu 0)" in message
    assert "- optimizer.name : valeur refusée ; valeurs permises : 'adam', 'adamw', 'sgd' (reçu 'adamm')" in message
    assert "- optimizer.momentum : champ inconnu ; champs permis : name, lr" in message
    assert "- optimiser : champ inconnu ; champs permis : name, epochs, optimizer" in message
    assert "Input should" not in message


def test_unknown_pydantic_errors_still_name_the_field():
    from pydantic import ValidationError

    class Odd(Schema):
        when: dict[str, int]

    with pytest.raises(ValidationError) as caught:
        Odd.model_validate({"when": {"a": "x"}})
    assert describe_errors(caught.value, Odd)[0].startswith("when.a : ")


def test_yaml_round_trip_writes_the_resolved_configuration(tmp_path):
    source = tmp_path / "run.yaml"
    source.write_text("name: essai\noptimizer:\n  name: sgd\n", encoding="utf-8")
    config = load_config(source, Run)
    written = save_config(config, tmp_path / "sortie")  # un dossier qui n'existe pas : un fichier
    assert written.name == "sortie"
    (tmp_path / "dossier").mkdir()
    written = save_config(config, tmp_path / "dossier")
    assert written == tmp_path / "dossier" / "config.yaml"
    assert yaml.safe_load(written.read_text(encoding="utf-8"))["optimizer"] == {"name": "sgd", "lr": 0.003}
    assert load_config(written, Run) == config


@pytest.mark.parametrize(
    "text, words",
    [
        (None, "introuvable"),
        ("name: [essai\n", "ligne"),
        ("- une liste\n", "paires clé: valeur"),
        ("name: essai\nepochs: -1\n", "run.yaml : Configuration invalide"),
    ],
)
def test_file_problems_name_the_file(tmp_path, text, words):
    path = tmp_path / "run.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_config(path, Run)


def test_wrong_arguments_are_refused():
    with pytest.raises(ConfigError, match="schema"):
        parse_config({}, dict)
    with pytest.raises(ConfigError, match="section"):
        parse_config(["name"], Run)
    with pytest.raises(ConfigError, match="config"):
        save_config({"name": "x"}, "x.yaml")


def test_the_optimization_benchmark_settings_are_a_validated_schema(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import optimization

    assert optimization.FULL == optimization.OptimizationConfig()
    assert optimization.SMOKE.n_train < optimization.FULL.n_train and optimization.SMOKE.runs < optimization.FULL.runs
    path = save_config(optimization.SMOKE, tmp_path / "smoke.yaml")
    assert load_config(path, optimization.OptimizationConfig) == optimization.SMOKE
    (tmp_path / "faux.yaml").write_text("sparsty: 0.9\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        optimization.main(["--config", str(tmp_path / "faux.yaml")])
