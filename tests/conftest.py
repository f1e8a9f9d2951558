"""Outils communs aux tests."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_xdist_make_scheduler(config, log):
    """Répartition sur les deux processus de test : un fichier de tests par groupe (une fixture de module
    n'est exécutée qu'une fois), sauf ``test_grading.py``, où chaque notebook forme son propre groupe, si
    bien que les corrections des notebooks se répartissent. (Le mode « loadgroup » de pytest-xdist n'a
    pas d'effet avec pytest 9 : le groupe est calculé ici, à partir de l'identifiant du test.)"""
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path, _, rest = nodeid.partition("::")
            if path.endswith("test_grading.py") and "[" in rest:
                return f"{path}[{rest.split('[', 1)[1]}"
            return path

    return CourseScheduling(config, log)
