"""Figures et tableaux pour le site : écrits seulement quand la tâche du cours le demande."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from labkit import LabkitError
from labkit.plotting import plot_histories, plot_history, save_figure, save_table

HISTORY = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.8, 0.9], "val_loss": [1.0, 0.6, 0.7], "val_accuracy": [0.5, 0.7, 0.7]}


def test_nothing_is_written_for_a_student(monkeypatch, tmp_path):
    monkeypatch.delenv("LABKIT_FIGURES_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert save_figure(plot_history(HISTORY), "courbes") is None
    assert list(tmp_path.iterdir()) == []


def test_figure_and_table_are_written_for_the_site(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_FIGURES_DIR", str(tmp_path))
    assert save_figure(plot_histories({"a": HISTORY, "b": HISTORY}), "comparaison").is_file()
    table = pd.DataFrame({"précision": [0.5, float("nan")], "époques": [80.0, 39.0]}, index=pd.Index(["x", "y"], name="remède"))
    text = save_table(table, "tableau").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "| remède | précision | époques |"
    assert "| x | 0.500 | 80 |" in text and "| y | — | 39 |" in text


def test_bad_names_and_inputs_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_FIGURES_DIR", str(tmp_path))
    with pytest.raises(LabkitError, match="name"):
        save_figure(plot_history(HISTORY), "../évasion")
    with pytest.raises(LabkitError, match="table"):
        save_table([1, 2], "t")
    with pytest.raises(LabkitError, match="histories"):
        plot_histories({})


def test_a_file_is_copied_for_the_site_only_when_asked(monkeypatch, tmp_path):
    from labkit.plotting import save_file

    report = tmp_path / "rapport.html"
    report.write_text("<p>rapport</p>", encoding="utf-8")
    monkeypatch.delenv("LABKIT_FIGURES_DIR", raising=False)
    assert save_file(report, "11_rapport") is None
    site = tmp_path / "site"
    monkeypatch.setenv("LABKIT_FIGURES_DIR", str(site))
    assert save_file(report, "11_rapport").read_text(encoding="utf-8") == "<p>rapport</p>"
    assert save_file(b"%PDF-1.7", "11_rapport", ".pdf").read_bytes() == b"%PDF-1.7"
    assert sorted(p.name for p in site.iterdir()) == ["11_rapport.html", "11_rapport.pdf"]
    with pytest.raises(LabkitError, match="suffix"):
        save_file(b"x", "11_rapport")
    with pytest.raises(LabkitError, match="suffix"):
        save_file(b"x", "11_rapport", "html/../x")
    with pytest.raises(LabkitError, match="introuvable"):
        save_file(tmp_path / "absent.pdf", "11_rapport")
    with pytest.raises(LabkitError, match="name"):
        save_file(report, "../évasion")
