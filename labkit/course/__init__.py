"""Outils de l'équipe pédagogique : publier, exécuter, noter, construire le site.

Rien ici n'est utilisé par les étudiants. Point d'entrée : ``python -m labkit.course``
(appelé par le Makefile). Ces outils travaillent sur un dépôt cloné du cours :

- ``solutions/<devoir>/<devoir>.ipynb`` : la source (marqueurs nbgrader) ;
- ``notebooks/<devoir>/<devoir>.ipynb`` : la version étudiante, **générée** ;
- ``course/`` : les pages du site ; ``docs/figures/`` : figures produites par les notebooks.
"""
