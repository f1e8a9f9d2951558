"""Notebook 12 « Projet : inspection de circuits imprimés » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie. Un exercice du projet a plusieurs cellules de tests (un critère du
budget chacune) : une entrée écrite ``(code, {cellules})`` ne doit perdre que ces cellules-là ; une
entrée écrite ``code`` perd toutes les cellules de tests de son exercice.
"""

# Erreur classique : la recette de l'atelier, sans rien contre la caméra ni contre le déséquilibre (un petit réseau
# entraîné depuis zéro sur les images d'atelier) : il manque la ligne, et la classe rare plus encore.
IGNORES_CAMERA_SHIFT = '''input_size, stats = 32, pretraining_stats()
x_fit = preprocess_arrays(project.workshop.images, input_size=input_size, mean=stats[0], std=stats[1])
x_check = preprocess_arrays(project.line_check.images, input_size=input_size, mean=stats[0], std=stats[1])
labkit.seed_everything(ctx.seed)
model = make_transfer_model(pretrained=False, freeze=False)
lkt.fit(model, x_fit, project.workshop.labels, x_check, project.line_check.labels, epochs=15, lr=3e-3, progress=False)
config = {"input_size": input_size, "normalization": list(stats), "epochs": 15, "learning_rate": 3e-3, "seed": ctx.seed,
          "techniques": ["réseau entraîné depuis zéro"]}
'''

# Erreur classique : « améliorer » le modèle livré par un ensemble (notebook 08) sans regarder le budget : trois
# copies du modèle fp32 moyennées, ni quantifiées ni allégées. Même précision, mais trois fois le calcul et le fichier
# (latence et taille manquées) ; dans cette copie, le modèle de l'exercice 1 est aussi celui qui ignore la caméra :
# il ne reconnaît pas chaque défaut, et le modèle livré perd aussi sa précision.
UNOPTIMIZED_ENSEMBLE = '''import copy


class Ensemble(nn.Module):
    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


ensemble = Ensemble([copy.deepcopy(model) for _ in range(3)]).eval()
export_classifier(ensemble, DELIVERABLE, name="pcb-ligne", version="1.1.0", mean=config["normalization"][0],
                  std=config["normalization"][1], input_size=config["input_size"])
'''

# Un rapport rédigé à la hâte, le même dans les deux copies ci-dessous : seules ses mesures « après » changent.
_HASTY_REPORT = '''report = ImprovementReport(
    title=f"Rapport : modèle {artifact_fingerprint(DELIVERABLE)}",
    author="Un étudiant pressé",
    problems=[Problem("La version actuelle ne tient pas le budget", [before["précision sur la ligne"]])],
    solutions=[Solution("Transfert et quantification", "Le modèle du projet.", [Comparison(before[q], after[q]) for q in after])],
    comparison_rows=[Comparison(before[q], after[q]) for q in after],
    conclusion="Le modèle livré tient le budget.",
    recommendations=["Le livrer."],
)
report_paths = {fmt: render_report(report, fmt, DELIVERABLES / f"rapport.{fmt}") for fmt in ("md", "html", "pdf")}
'''

# Erreur classique : une taille « mesurée » à la main en kio (1 024 octets) au lieu de ko (1 000 octets).
SIZE_IN_KIB = '''import dataclasses

before = budget_measurements(baseline_budget, data=LINE_CHECK, artifact=baseline_path)
after = budget_measurements(deployed_budget, data=LINE_CHECK, artifact=DELIVERABLE)
after["taille du fichier"] = dataclasses.replace(after["taille du fichier"], value=DELIVERABLE.stat().st_size / 1024)
''' + _HASTY_REPORT

#: Erreurs classiques : {cellule de réponse: code fautif} ou {cellule: (code, cellules de tests perdues)}.
MISTAKES = {
    "ex1_model": IGNORES_CAMERA_SHIFT,
    "ex2_deploy": UNOPTIMIZED_ENSEMBLE,
    "ex3_report": SIZE_IN_KIB,
}


# Raccourci : un « modèle » qui répond toujours la classe la plus fréquente de l'atelier. Le critère par classe l'arrête
# (et la précision, sur les images de la ligne où les six défauts sont en parts égales).
MAJORITY_CLASS = '''class AlwaysMostFrequent(nn.Module):
    def __init__(self):
        super().__init__()
        self.logits = nn.Parameter(torch.tensor([4.0, 0.0, 0.0, 0.0, 0.0, 0.0]))

    def forward(self, x):
        return self.logits.expand(x.shape[0], -1) + 0.0 * x.mean()


model = AlwaysMostFrequent()
config = {"input_size": 32, "normalization": [0.5, 0.25], "epochs": 0, "learning_rate": 0.0, "seed": 0,
          "techniques": ["aucune"]}
'''

# Raccourci : livrer la version actuelle, trop grosse et trop lente, sous le nom attendu (renommer un fichier ne le rend
# ni plus petit ni plus rapide, et elle ne reconnaît pas chaque défaut de la ligne).
RENAMED_OVERSIZED = '''import shutil

shutil.copyfile(baseline_path, DELIVERABLE)
'''

# Raccourci : un rapport qui décrit un autre artefact que le modèle livré (le modèle fp32), sous l'empreinte du livré.
REPORT_OF_ANOTHER_ARTIFACT = '''before = budget_measurements(baseline_budget, data=LINE_CHECK, artifact=baseline_path)
after = budget_measurements(fp32_budget, data=LINE_CHECK, artifact=fp32_path)
''' + _HASTY_REPORT

#: Raccourcis : obtenir les points sans faire le travail (modèle trivial, fichier renommé, rapport d'un autre artefact).
SHORTCUTS = {
    "ex1_model": MAJORITY_CLASS,
    "ex2_deploy": RENAMED_OVERSIZED,
    "ex3_report": REPORT_OF_ANOTHER_ARTIFACT,
}
