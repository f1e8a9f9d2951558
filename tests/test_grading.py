"""Aller-retour de correction nbgrader : notes lues dans le carnet SQLite."""

import nbformat
import pytest

from _grading import assert_only_these_lose_their_points, assert_solution_full_and_untouched_zero, graded_course
from labkit.course import grading
from labkit.course.paths import solution_path

pytestmark = pytest.mark.slow

ASSIGNMENT = "01_surapprentissage"
POINTS = {"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 4}

WRONG_EARLY_STOPPING = '''def early_stopping_epochs(val_losses, patience):
    """Erreur volontaire : l'époque d'arrêt est décalée d'une unité."""
    best_epoch, best_loss, waited = 0, float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss:
            best_epoch, best_loss, waited = epoch, loss, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch + 1
    return best_epoch, len(val_losses)
'''

RAISING_DIAGNOSIS = '''def classify_history(history, max_gap=0.10, turn_tolerance=0.10, min_accuracy=0.80):
    return history["n'existe pas"]
'''

# Triche : rendre la référence artificiellement mauvaise pour passer le critère sans remède.
TAMPERED_REMEDIES = """labkit.seed_everything(ctx.seed)
remedied_model = lkt.make_mlp(hidden=512, depth=2)
remedied_history = lkt.fit(remedied_model, case.x_train, case.y_train, case.x_val, case.y_val,
                           epochs=EPOCHS, device=ctx.device, description="sans remède")
remedied_val = lkt.evaluate(remedied_model, case.x_val, case.y_val)
baseline_val = {"loss": 99.0, "accuracy": 0.0}
"""

LOOPING_EARLY_STOPPING = '''def early_stopping_epochs(val_losses, patience):
    while True:
        pass
'''


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    course = graded_course(root, tmp_path_factory, ASSIGNMENT, {
        "wrong": {"ex2_early_stopping": WRONG_EARLY_STOPPING},
        "broken": {"ex1_classify_history": RAISING_DIAGNOSIS, "ex2_early_stopping": LOOPING_EARLY_STOPPING},
        "tampered": {"ex3_remedies": TAMPERED_REMEDIES},
    }, timeout=20)
    feedback = grading.generate_feedback(course, ASSIGNMENT)
    return grading.read_scores(course, ASSIGNMENT), feedback


def test_solution_gets_full_marks(graded):
    scores, _ = graded
    assert scores["solution"]["max"] == sum(POINTS.values())
    assert scores["solution"]["total"] == sum(POINTS.values())


def test_untouched_student_notebook_gets_zero(graded):
    scores, _ = graded
    assert scores["untouched"]["total"] == 0


def test_a_wrong_answer_loses_exactly_its_points(graded):
    scores, _ = graded
    cells = scores["wrong"]["cells"]
    assert cells["ex2_tests"] == 0
    assert cells["ex1_tests"] == POINTS["ex1_tests"] and cells["ex3_tests"] == POINTS["ex3_tests"]
    assert scores["wrong"]["total"] == sum(POINTS.values()) - POINTS["ex2_tests"]


def test_a_raising_and_looping_submission_is_graded_without_stopping_the_batch(graded):
    scores, _ = graded
    cells = scores["broken"]["cells"]
    assert cells["ex1_tests"] == 0 and cells["ex2_tests"] == 0
    assert cells["ex3_tests"] == POINTS["ex3_tests"]


def test_tampering_with_the_baseline_does_not_pass_the_hidden_tests(graded):
    scores, _ = graded
    cells = scores["tampered"]["cells"]
    assert cells["ex3_tests"] == 0
    assert cells["ex1_tests"] == POINTS["ex1_tests"] and cells["ex2_tests"] == POINTS["ex2_tests"]


def test_feedback_is_generated_without_hidden_test_code(graded):
    scores, feedback = graded
    assert {p.parts[-3] for p in feedback} == set(scores)
    for page in feedback:
        html = page.read_text(encoding="utf-8")
        # Une ligne cachée qui n'échoue jamais n'apparaît dans aucun retour (la trace d'un test
        # caché qui échoue, elle, montre sa ligne : limite connue de nbgrader).
        assert "_reference = make_overfitting_case" not in html, page
        if page.parts[-3] == "solution":
            assert "_baseline_val" not in html


# ---------------------------------------------------------------- notebook 02

ASSIGNMENT_02 = "02_problemes_donnees"
POINTS_02 = {"ex1_tests": 3, "ex2_tests": 4, "ex3_tests": 3, "ex4_tests": 3}

# Erreur classique : découper photo par photo au lieu de carte par carte.
WRONG_GROUP_SPLIT = '''def group_split(groups, val_fraction=0.25, seed=0):
    """Erreur volontaire : les exemples sont tirés un par un, les groupes sont coupés en deux."""
    groups = np.asarray(groups)
    order = np.random.default_rng(seed).permutation(len(groups))
    n_val = int(round(len(groups) * val_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])
'''

# Erreur classique : normaliser avec les statistiques de toutes les données.
LEAKY_STANDARDIZER = '''def fit_standardizer(x_train):
    everything = np.concatenate([sensors.x_train, sensors.x_val])
    return everything.mean(axis=0), everything.std(axis=0)


def standardize(x, mean, std):
    return ((x - mean) / std).astype(np.float32)
'''


@pytest.fixture(scope="module")
def graded_02(root, tmp_path_factory):
    course = graded_course(root, tmp_path_factory, ASSIGNMENT_02, {
        "wrong": {"ex4_group_split": WRONG_GROUP_SPLIT, "ex1_standardize": LEAKY_STANDARDIZER},
    }, timeout=60)
    return grading.read_scores(course, ASSIGNMENT_02)


def test_notebook_02_solution_full_untouched_zero(graded_02):
    assert_solution_full_and_untouched_zero(graded_02, POINTS_02)


def test_notebook_02_wrong_split_and_leaky_normalization_lose_their_points_only(graded_02):
    assert_only_these_lose_their_points(graded_02["wrong"], POINTS_02, {"ex1_tests", "ex4_tests"})


# ---------------------------------------------------------------- notebook 03

ASSIGNMENT_03 = "03_regulariser_suivre"
POINTS_03 = {"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 4, "ex4_tests": 3}

# Erreur : la fonction ignore son argument et relit toujours l'expérience du notebook.
IGNORED_EXPERIMENT = '''def compare_runs(experiment, baseline="référence"):
    table = tracking.runs_table(EXPERIMENT)[["test_accuracy", "test_loss"]].copy()
    table["gain (points)"] = 100 * (table["test_accuracy"] - table.loc[baseline, "test_accuracy"])
    return table.sort_values("test_accuracy", ascending=False)
'''

# Triche : une « référence » sabotée (pas minuscule) pour que n'importe quelle recette la batte.
SABOTAGED_REFERENCE = '''def run(name, params=None, callbacks=(), **model_options):
    keras.utils.set_random_seed(ctx.seed)
    model = make_model(**model_options)
    lkk.fit_tracked(name, model, x_train, y_train, x_val, y_val, test_data=(x_test, y_test),
                    params={**model_options, **(params or {})}, epochs=EPOCHS, callbacks=list(callbacks), seed=ctx.seed,
                    lr=1e-5 if name == "référence" else 1e-3)
    return model


reference_model = run("référence")
'''


def _replace_cell_source(path, old_start, new_source, target):
    nb = nbformat.read(path, as_version=4)
    matches = [cell for cell in nb.cells if cell.source.startswith(old_start)]
    assert len(matches) == 1, old_start
    matches[0].source = new_source
    nbformat.write(nb, target)
    return target


@pytest.fixture(scope="module")
def graded_03(root, tmp_path_factory):
    sabotaged = _replace_cell_source(solution_path(root, ASSIGNMENT_03), "def run(name", SABOTAGED_REFERENCE,
                                     tmp_path_factory.mktemp("sabotaged_03") / "sabotaged.ipynb")
    course = graded_course(root, tmp_path_factory, ASSIGNMENT_03, {
        "wrong": {"ex4_compare_runs": IGNORED_EXPERIMENT},
        "sabotaged": sabotaged,
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_03)


def test_notebook_03_solution_full_untouched_zero(graded_03):
    assert_solution_full_and_untouched_zero(graded_03, POINTS_03)


def test_notebook_03_a_comparison_that_ignores_its_experiment_loses_its_points_only(graded_03):
    assert_only_these_lose_their_points(graded_03["wrong"], POINTS_03, {"ex4_tests"})


def test_notebook_03_a_sabotaged_reference_does_not_earn_the_improvement_points(graded_03):
    cells = graded_03["sabotaged"]["cells"]
    assert cells["ex3_tests"] == 0
    assert cells["ex1_tests"] == POINTS_03["ex1_tests"] and cells["ex2_tests"] == POINTS_03["ex2_tests"]


# ---------------------------------------------------------------- notebook 04

ASSIGNMENT_04 = "04_entrainer_plus_vite"
POINTS_04 = {"ex1_tests": 3, "ex2_tests": 4, "ex3_tests": 3}

# Erreur classique : lire le temps propre (« Self CPU ») d'une étiquette, qui exclut tout ce qu'elle appelle.
SELF_TIME_SHARES = '''def stage_shares(profiler, stages):
    totals = {event.key: event.self_cpu_time_total for event in profiler.key_averages() if event.key in stages}
    times = pd.Series([float(totals.get(stage, 0.0)) for stage in stages], index=stages)
    return times / times.sum()


class CachedDataset(Dataset):
    def __init__(self, dataset):
        items = [dataset[i] for i in range(len(dataset))]
        self.images = torch.stack([torch.as_tensor(image) for image, _ in items])
        self.labels = torch.tensor([int(label) for _, label in items], dtype=torch.long)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]
'''

# Erreur classique : renvoyer la norme après l'écrêtage, ce qui cache l'explosion qu'on voulait surveiller.
NORM_AFTER_CLIPPING = '''def clip_by_global_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / norm)
    return min(norm, max_norm)
'''


@pytest.fixture(scope="module")
def graded_04(root, tmp_path_factory):
    course = graded_course(root, tmp_path_factory, ASSIGNMENT_04, {
        "wrong": {"ex2_profile_cache": SELF_TIME_SHARES, "ex3_clip": NORM_AFTER_CLIPPING},
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_04)


def test_notebook_04_solution_full_untouched_zero(graded_04):
    assert_solution_full_and_untouched_zero(graded_04, POINTS_04)


def test_notebook_04_self_time_shares_and_norm_after_clipping_lose_their_points_only(graded_04):
    assert_only_these_lose_their_points(graded_04["wrong"], POINTS_04, {"ex2_tests", "ex3_tests"})
