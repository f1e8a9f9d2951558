"""Aller-retour nbgrader des notebooks 05 à 08 (module 3) : un cas par notebook.

Fichier séparé de test_grading.py pour que pytest-xdist (``--dist loadfile``) répartisse
les corrections, les plus longues des tests, sur les deux processus.
"""

import pytest

from _grading import assert_only_these_lose_their_points, assert_solution_full_and_untouched_zero, graded_course
from labkit.course import grading

pytestmark = pytest.mark.slow

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


# Pour chaque notebook : les points par cellule de tests, deux erreurs classiques soumises
# ensemble {grade_id: code}, et les seules cellules de tests qui doivent perdre leurs points.
CASES = {
    "05_quantifier": ({"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 3, "ex4_tests": 3},
                      {"ex3_calibration": FIRST_EXAMPLES_CALIBRATION, "ex4_gains": INVERTED_GAINS}, {"ex3_tests", "ex4_tests"}),
    "06_elaguer": ({"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 4},
                   {"ex2_best_sparsity": LOWEST_SPARSITY, "ex3_channels": FIRST_CHANNELS}, {"ex2_tests", "ex3_tests"}),
    "07_distiller": ({"ex1_tests": 3, "ex2_tests": 4, "ex3_tests": 3},
                     {"ex2_loss": LOSS_WITHOUT_T_SQUARED, "ex3_gap": GAP_TO_DISTILLED}, {"ex2_tests", "ex3_tests"}),
    "08_architectures_efficientes": ({"ex1_tests": 3, "ex2_tests": 3, "ex3_tests": 4},
                                     {"ex2_separable": SEPARABLE_WITHOUT_GROUPS, "ex3_inverted": PROJECTION_WITH_RELU},
                                     {"ex2_tests", "ex3_tests"}),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def graded(request, root, tmp_path_factory):
    assignment = request.param
    _, mistakes, _ = CASES[assignment]
    course = graded_course(root, tmp_path_factory, assignment, {"wrong": mistakes}, timeout=120)
    return assignment, grading.read_scores(course, assignment)


def test_solution_full_untouched_zero(graded):
    assignment, scores = graded
    assert_solution_full_and_untouched_zero(scores, CASES[assignment][0])


def test_classic_mistakes_lose_exactly_their_exercises(graded):
    assignment, scores = graded
    points, _, lost = CASES[assignment]
    assert_only_these_lose_their_points(scores["wrong"], points, lost)
