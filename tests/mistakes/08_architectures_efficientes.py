"""Notebook 08 « Choisir une architecture efficiente » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

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


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex2_separable": SEPARABLE_WITHOUT_GROUPS,
    "ex3_inverted": PROJECTION_WITH_RELU,
}


# Raccourci : mesurer une convolution jetable avec les outils du cours au lieu d'écrire les formules.
MEASURED_COST = '''def conv2d_cost(c_in, c_out, kernel_size, h_out, w_out, groups=1):
    conv = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, groups=groups, bias=False)
    return lkt.count_parameters(conv), lkt.count_macs(conv, (c_in, h_out, w_out))
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex1_cost": MEASURED_COST,
}
