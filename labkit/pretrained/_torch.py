"""Le modèle de transfert PyTorch (importé à la demande : ``import labkit.pretrained`` ne charge pas PyTorch)."""

from torch import nn


class TransferModel(nn.Sequential):
    """Backbone + tête ; un backbone gelé reste en mode évaluation même pendant ``model.train()``.

    Ses normalisations de lot gardent ainsi les statistiques du pré-entraînement. Classe de module :
    ``torch.save(model)`` et ``copy.deepcopy(model)`` fonctionnent.
    """

    def __init__(self, backbone: nn.Module, head: nn.Module, *, frozen: bool):
        super().__init__(backbone, head)
        self.frozen = frozen

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self[0].eval()
        return self
