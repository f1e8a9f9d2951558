"""Notebook 07 « Distiller un modèle » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

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


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex2_loss": LOSS_WITHOUT_T_SQUARED,
    "ex3_gap": GAP_TO_DISTILLED,
}


# Raccourci : appeler la perte de référence du cours au lieu de l'écrire.
REFERENCE_LOSS = '''from labkit.optimize.distill import distillation_loss as _course_loss


def distillation_loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5):
    return _course_loss(student_logits, teacher_logits.detach(), labels, temperature=temperature, alpha=alpha)
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex2_loss": REFERENCE_LOSS,
}
