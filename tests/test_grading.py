"""Aller-retour de correction nbgrader : notes lues dans le carnet SQLite."""

from pathlib import Path

import nbformat
import pytest

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


def _variant(path, replacements, target):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replacements:
            cell.source = replacements[grade_id]
    nbformat.write(nb, target)
    return target


def _graded_course(root, tmp_path_factory, assignment, variants, *, timeout):
    """Soumet la solution, la version étudiante non touchée et des variantes fautives, puis les corrige."""
    course = grading.prepare_course(root, tmp_path_factory.mktemp(f"course_{assignment}"), [assignment], timeout=timeout)
    work = tmp_path_factory.mktemp(f"submissions_{assignment}")
    solution = solution_path(root, assignment)
    submissions = {"solution": solution, "untouched": grading.generate_assignment(course, assignment)}
    for name, variant in variants.items():
        # Une variante est soit {grade_id: nouveau code}, soit un notebook déjà préparé.
        submissions[name] = variant if isinstance(variant, Path) else _variant(solution, variant, work / f"{name}.ipynb")
    for student, notebook in submissions.items():
        grading.submit(course, assignment, student, notebook)
    grading.autograde(course, assignment, smoke=True)
    return course


def _assert_solution_full_and_untouched_zero(scores, points):
    assert scores["solution"]["max"] == sum(points.values())
    assert scores["solution"]["total"] == sum(points.values())
    assert scores["untouched"]["total"] == 0


def _assert_only_these_lose_their_points(scores, points, lost):
    """Les exercices `lost` ont 0, tous les autres leurs points complets."""
    cells = scores["cells"]
    for grade_id, full in points.items():
        assert cells[grade_id] == (0 if grade_id in lost else full), grade_id


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT, {
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
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT_02, {
        "wrong": {"ex4_group_split": WRONG_GROUP_SPLIT, "ex1_standardize": LEAKY_STANDARDIZER},
    }, timeout=60)
    return grading.read_scores(course, ASSIGNMENT_02)


def test_notebook_02_solution_full_untouched_zero(graded_02):
    _assert_solution_full_and_untouched_zero(graded_02, POINTS_02)


def test_notebook_02_wrong_split_and_leaky_normalization_lose_their_points_only(graded_02):
    _assert_only_these_lose_their_points(graded_02["wrong"], POINTS_02, {"ex1_tests", "ex4_tests"})


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
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT_03, {
        "wrong": {"ex4_compare_runs": IGNORED_EXPERIMENT},
        "sabotaged": sabotaged,
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_03)


def test_notebook_03_solution_full_untouched_zero(graded_03):
    _assert_solution_full_and_untouched_zero(graded_03, POINTS_03)


def test_notebook_03_a_comparison_that_ignores_its_experiment_loses_its_points_only(graded_03):
    _assert_only_these_lose_their_points(graded_03["wrong"], POINTS_03, {"ex4_tests"})


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
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT_04, {
        "wrong": {"ex2_profile_cache": SELF_TIME_SHARES, "ex3_clip": NORM_AFTER_CLIPPING},
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_04)


def test_notebook_04_solution_full_untouched_zero(graded_04):
    _assert_solution_full_and_untouched_zero(graded_04, POINTS_04)


def test_notebook_04_self_time_shares_and_norm_after_clipping_lose_their_points_only(graded_04):
    _assert_only_these_lose_their_points(graded_04["wrong"], POINTS_04, {"ex2_tests", "ex3_tests"})


# ---------------------------------------------------------------- notebook 05

ASSIGNMENT_05 = "05_quantifier"
POINTS_05 = {"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 3, "ex4_tests": 3}

# Erreur classique : calibrer sur les premiers exemples venus, sans regarder les classes.
FIRST_EXAMPLES_CALIBRATION = '''def calibration_set(x, y, size, seed=0):
    return np.asarray(x[:size], dtype=np.float32)
'''

# Erreur classique : le rapport à l'envers (variante / référence).
INVERTED_GAINS = '''def int8_gains(table, reference, quantized):
    ref, new = table.loc[reference], table.loc[quantized]
    return {
        "× plus petit": float(new["taille (ko)"] / ref["taille (ko)"]),
        "× plus rapide b1": float(new["latence b1 (ms)"] / ref["latence b1 (ms)"]),
        "× plus rapide b64": float(new["latence b64 (ms)"] / ref["latence b64 (ms)"]),
        "points perdus": float((ref["précision"] - new["précision"]) * 100),
    }
'''


@pytest.fixture(scope="module")
def graded_05(root, tmp_path_factory):
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT_05, {
        "wrong": {"ex3_calibration": FIRST_EXAMPLES_CALIBRATION, "ex4_gains": INVERTED_GAINS},
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_05)


def test_notebook_05_solution_full_untouched_zero(graded_05):
    _assert_solution_full_and_untouched_zero(graded_05, POINTS_05)


def test_notebook_05_unbalanced_calibration_and_inverted_gains_lose_their_points_only(graded_05):
    _assert_only_these_lose_their_points(graded_05["wrong"], POINTS_05, {"ex3_tests", "ex4_tests"})


# ---------------------------------------------------------------- notebook 06

ASSIGNMENT_06 = "06_elaguer"
POINTS_06 = {"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 4}

# Erreur classique : le taux le plus prudent au lieu du plus élevé qui tient la contrainte.
LOWEST_SPARSITY = '''def best_sparsity(sweep, reference_accuracy, max_loss_points=1.0, column="précision après réentraînement"):
    allowed = sweep.index[sweep[column] >= reference_accuracy - max_loss_points / 100]
    return float(min(allowed)) if len(allowed) else None
'''

# Erreur classique : garder les premiers canaux sans regarder leur norme.
FIRST_CHANNELS = '''def channels_to_keep(weight, keep_ratio):
    return torch.arange(max(1, round(weight.shape[0] * keep_ratio)))


def slice_conv_pair(conv, bn, next_conv, kept):
    new_conv = torch.nn.Conv2d(conv.in_channels, len(kept), conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None)
    new_bn = torch.nn.BatchNorm2d(len(kept))
    new_next = torch.nn.Conv2d(len(kept), next_conv.out_channels, next_conv.kernel_size, next_conv.stride, next_conv.padding,
                               bias=next_conv.bias is not None)
    with torch.no_grad():
        new_conv.weight.copy_(conv.weight[kept])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(new_bn, name).copy_(getattr(bn, name)[kept])
        new_next.weight.copy_(next_conv.weight[:, kept])
        if next_conv.bias is not None:
            new_next.bias.copy_(next_conv.bias)
    return new_conv, new_bn, new_next
'''


@pytest.fixture(scope="module")
def graded_06(root, tmp_path_factory):
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT_06, {
        "wrong": {"ex2_best_sparsity": LOWEST_SPARSITY, "ex3_channels": FIRST_CHANNELS},
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_06)


def test_notebook_06_solution_full_untouched_zero(graded_06):
    _assert_solution_full_and_untouched_zero(graded_06, POINTS_06)


def test_notebook_06_lowest_sparsity_and_first_channels_lose_their_points_only(graded_06):
    _assert_only_these_lose_their_points(graded_06["wrong"], POINTS_06, {"ex2_tests", "ex3_tests"})


# ---------------------------------------------------------------- notebook 07

ASSIGNMENT_07 = "07_distiller"
POINTS_07 = {"ex1_tests": 3, "ex2_tests": 4, "ex3_tests": 3}

# Erreur classique : oublier le facteur T² (la température change alors le poids des deux termes).
LOSS_WITHOUT_T_SQUARED = '''def distillation_loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5):
    log_student = F.log_softmax(student_logits / temperature, dim=1)
    log_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=1)
    kl = (log_teacher.exp() * (log_teacher - log_student)).sum(dim=1).mean()
    return alpha * kl + (1 - alpha) * F.cross_entropy(student_logits, labels)
'''

# Erreur classique : diviser par l'écart restant au lieu de l'écart de départ.
GAP_TO_DISTILLED = '''def gap_closed(table, alone, distilled, teacher):
    accuracy = table["précision"]
    return float((accuracy[distilled] - accuracy[alone]) / (accuracy[teacher] - accuracy[distilled]))
'''


@pytest.fixture(scope="module")
def graded_07(root, tmp_path_factory):
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT_07, {
        "wrong": {"ex2_loss": LOSS_WITHOUT_T_SQUARED, "ex3_gap": GAP_TO_DISTILLED},
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_07)


def test_notebook_07_solution_full_untouched_zero(graded_07):
    _assert_solution_full_and_untouched_zero(graded_07, POINTS_07)


def test_notebook_07_missing_t_squared_and_wrong_gap_lose_their_points_only(graded_07):
    _assert_only_these_lose_their_points(graded_07["wrong"], POINTS_07, {"ex2_tests", "ex3_tests"})


# ---------------------------------------------------------------- notebook 08

ASSIGNMENT_08 = "08_architectures_efficientes"
POINTS_08 = {"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 4}

# Erreur classique : une convolution 3×3 pleine au lieu d'une convolution en profondeur (groups oublié).
SEPARABLE_WITHOUT_GROUPS = '''class DepthwiseSeparable(nn.Sequential):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__(
            nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_in), nn.ReLU(),
            nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
        )
'''

# Erreur classique : une activation après la projection (le goulot n'est plus linéaire).
PROJECTION_WITH_RELU = '''class InvertedResidual(nn.Module):
    def __init__(self, c_in, c_out, expansion=4, stride=1):
        super().__init__()
        hidden = c_in * expansion
        self.layers = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.use_residual = stride == 1 and c_in == c_out

    def forward(self, x):
        out = torch.relu6(self.layers(x))
        return x + out if self.use_residual else out
'''


@pytest.fixture(scope="module")
def graded_08(root, tmp_path_factory):
    course = _graded_course(root, tmp_path_factory, ASSIGNMENT_08, {
        "wrong": {"ex2_separable": SEPARABLE_WITHOUT_GROUPS, "ex3_inverted": PROJECTION_WITH_RELU},
    }, timeout=120)
    return grading.read_scores(course, ASSIGNMENT_08)


def test_notebook_08_solution_full_untouched_zero(graded_08):
    _assert_solution_full_and_untouched_zero(graded_08, POINTS_08)


def test_notebook_08_full_convolution_and_relu_after_projection_lose_their_points_only(graded_08):
    _assert_only_these_lose_their_points(graded_08["wrong"], POINTS_08, {"ex2_tests", "ex3_tests"})
