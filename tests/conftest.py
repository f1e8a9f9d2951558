"""Outils communs aux tests."""

import os
from pathlib import Path

import pytest

# Un fil par bibliothèque de calcul, pour tout ce que la suite lance (processus de test, noyaux des notebooks,
# serveurs) : les deux processus de test occupent déjà les deux cœurs. Sans cela, les fils d'OpenMP, d'oneDNN et de
# TensorFlow qui attendent en tournant se disputent les cœurs : la correction du notebook 06 a pris 480 s au lieu
# d'environ 150 s. Fixé avant toute importation de torch ou de TensorFlow ; une mesure qui veut plusieurs fils les
# demande explicitement (torch.set_num_threads, intra_op_num_threads), ce que ces variables n'empêchent pas.
# ``LABKIT_THREADS`` ramène aussi à un fil l'entraînement des notebooks (``labkit.init`` en met 2 sinon).
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                  "TF_NUM_INTEROP_THREADS", "LABKIT_THREADS"):
    os.environ.setdefault(_variable, "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Le site construit une fois (``mkdocs build --strict``, comme ``labkit-course site``) pour ``test_site.py`` et
    ``test_site_browser.py``, que la répartition ci-dessous place dans le même processus de test."""
    from labkit.course.publish import build_site

    return build_site(ROOT, tmp_path_factory.mktemp("site"))


#: Fichiers de tests qui partagent une fixture de session coûteuse : ils forment un seul groupe.
SHARED_GROUPS = {"tests/test_site_browser.py": "tests/test_site.py"}


def pytest_xdist_make_scheduler(config, log):
    """Répartition sur les deux processus de test : un fichier de tests par groupe (une fixture de module
    n'est exécutée qu'une fois), sauf ``test_grading.py``, où chaque notebook forme son propre groupe, si
    bien que les corrections des notebooks se répartissent, et ``SHARED_GROUPS``. (Le mode « loadgroup » de pytest-xdist n'a
    pas d'effet avec pytest 9 : le groupe est calculé ici, à partir de l'identifiant du test.)"""
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path, _, rest = nodeid.partition("::")
            if path.endswith("test_grading.py") and "[" in rest:
                return f"{path}[{rest.split('[', 1)[1]}"
            return SHARED_GROUPS.get(path, path)

    return CourseScheduling(config, log)


#: Les fichiers de tests les plus longs, dans l'ordre où les deux processus les prennent ; les autres suivent dans
#: l'ordre alphabétique et comblent la fin. (pytest-xdist trierait sinon les groupes par nombre de tests, ce qui
#: laisse les corrections des notebooks, longues et de cinq tests chacune, pour la fin.)
HEAVY_FIRST = ("test_colab.py", "test_grading.py", "test_grading_guard.py", "test_teacher_workflow.py", "test_case_proofs.py",
               "test_optimize.py", "test_notebooks.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
