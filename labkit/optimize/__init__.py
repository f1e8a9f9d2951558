"""Rendre un modèle petit et rapide, et le prouver : mesure, quantification, élagage, distillation, export.

- :mod:`labkit.optimize.measure` : taille, latence, précision, tableau comparatif (un seul protocole
  pour PyTorch, ONNX Runtime et LiteRT) ;
- :mod:`labkit.optimize.quantize` : quantificateur linéaire écrit à la main, int8 statique et dynamique
  avec ONNX Runtime ;
- :mod:`labkit.optimize.qat` : quantification simulée, fusion de la normalisation, QAT (PyTorch) ;
- :mod:`labkit.optimize.litert` : export LiteRT d'un modèle Keras 3 (fp32, float16, int8 dynamique, int8) ;
- :mod:`labkit.optimize.prune` : élagage global par magnitude, élagage structuré de canaux ;
- :mod:`labkit.optimize.distill` : perte et entraînement de distillation (PyTorch ; pour Keras,
  :func:`labkit.keras.distill`) ;
- :mod:`labkit.optimize.export` : export ONNX avec vérification numérique ;
- :mod:`labkit.optimize.ensemble` : ensemble de modèles (moyenne des probabilités), mesuré comme un modèle (notebook 08).

Rien n'est importé ici : chaque sous-module importe son cadre quand on s'en sert.
"""
