"""Rendre un modèle petit et rapide, et le prouver : mesure, quantification, élagage, distillation, export.

- :mod:`labkit.optimize.measure` : taille, latence, précision, tableau comparatif (un seul protocole
  pour PyTorch et ONNX Runtime) ;
- :mod:`labkit.optimize.quantize` : quantificateur linéaire écrit à la main, int8 statique avec ONNX Runtime ;
- :mod:`labkit.optimize.prune` : élagage global par magnitude, élagage structuré de canaux ;
- :mod:`labkit.optimize.distill` : perte et entraînement de distillation ;
- :mod:`labkit.optimize.export` : export ONNX avec vérification numérique.

Rien n'est importé ici : chaque sous-module importe son cadre quand on s'en sert.
"""
