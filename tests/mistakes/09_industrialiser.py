"""Notebook 09 « Industrialiser son code de deep learning » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; les erreurs d'un côté, les
raccourcis de l'autre, sont soumis ensemble dans une copie, qui doit perdre exactement les points des
exercices visés.
"""

# Erreur classique : des print au lieu du journal (impossible à filtrer, à rediriger, à faire taire).
PRINT_INSTEAD_OF_LOGGING = '''class PipelineError(Exception):
    """Base des erreurs du paquet pcbkit."""


logger = logging.getLogger("pcbkit")


class ConfigurationError(PipelineError):
    pass


class DataError(PipelineError):
    pass


class ModelError(PipelineError):
    pass


class TrainingError(PipelineError):
    pass


def check_dataset(images, labels, n_classes):
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4:
        raise DataError(f"`images` doit être (N, canaux, H, W), reçu la forme {images.shape}.")
    if len(labels) != len(images):
        raise DataError(f"`labels` : {len(images)} images, reçu {len(labels)} étiquettes.")
    if not np.isfinite(images).all():
        raise DataError("`images` contient des NaN.")
    outside = labels[(labels < 0) | (labels >= n_classes)]
    if len(outside):
        raise DataError(f"`labels` hors limites : {outside[0]}.")
    counts = np.bincount(labels.astype(np.int64), minlength=n_classes)
    print(f"jeu vérifié : {len(images)} images")
    for missing in np.flatnonzero(counts == 0):
        print(f"attention : la classe {missing} n'a aucune image")
    return counts
'''

# Erreur classique : le schéma oublie extra="forbid" ; pydantic ignore alors en silence « epoch » ou « optimiser ».
UNKNOWN_KEYS_IGNORED = '''class OptimizerConfig(BaseModel):
    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(3e-3, gt=0, le=1)
    weight_decay: float = Field(0.0, ge=0)


class TrainingConfig(BaseModel):
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(64, ge=1)
    patience: int | None = Field(3, ge=1)


class RunConfig(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    seed: int = Field(0, ge=0)
    device: Literal["auto", "cpu", "gpu"] = "auto"
    output_dir: str = "runs"
    data: DataConfig = DataConfig()
    model: ModelConfig
    optimizer: OptimizerConfig = OptimizerConfig()
    training: TrainingConfig = TrainingConfig()


def load_config(path):
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"fichier de configuration introuvable : {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path.name} doit contenir des paires clé: valeur.")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"])
            if item["type"] == "missing":
                lines.append(f"{where} : champ obligatoire manquant")
            elif item["type"] == "literal_error":
                lines.append(f"{where} : valeurs permises : {item['ctx']['expected']} (reçu {item['input']!r})")
            else:
                lines.append(f"{where} : valeur refusée, {item['msg']} (reçu {item['input']!r})")
        raise ConfigurationError("\\n".join(lines)) from None


def save_config(config, folder):
    path = Path(folder) / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path
'''

# Erreur classique : normaliser chaque lot avec ses propres statistiques ; une image seule en production
# reçoit alors une autre transformation qu'à l'entraînement.
BATCH_STATISTICS = '''class Normalizer:
    def __init__(self, mean, std):
        self.mean, self.std = float(mean), float(std)

    @classmethod
    def fit(cls, images):
        pixels = np.asarray(images, dtype=np.float64)
        return cls(pixels.mean(), pixels.std())

    def __call__(self, images):
        x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
        if x.ndim == 3:
            x = x[:, None]
        return (x - x.mean()) / x.std()

    def state_dict(self):
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_state_dict(cls, state):
        return cls(state["mean"], state["std"])
'''

# Erreur classique : garder model.state_dict() sans le copier ; ce sont les tenseurs vivants du modèle,
# que l'optimiseur modifie ensuite : les « meilleurs » poids restaurés sont ceux de la dernière époque.
LIVE_STATE_DICT = '''class BestCheckpoint(Callback):
    def __init__(self):
        self.best_epoch, self.best_loss, self.best_state, self.model = None, math.inf, None, None

    def on_train_begin(self, model):
        self.model = model

    def on_epoch_end(self, epoch, logs):
        if logs["val_loss"] < self.best_loss:
            self.best_epoch, self.best_loss = epoch, logs["val_loss"]
            self.best_state = self.model.state_dict()

    def on_train_end(self, model):
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


class NaNGuard(Callback):
    epoch = 0

    def on_epoch_begin(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, batch, logs):
        if not math.isfinite(logs["loss"]):
            raise TrainingError(f"perte non finie à l'époque {self.epoch}, lot {batch} : réduisez lr.")


def fit_with_callbacks(model, train_loader, val_loader, optimizer, epochs, callbacks=()):
    device = next(model.parameters()).device
    history = []
    for callback in callbacks:
        callback.on_train_begin(model)
    for epoch in range(epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        model.train()
        losses = []
        for batch, (xb, yb) in enumerate(train_loader):
            loss = F.cross_entropy(model(xb.to(device)), yb.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            for callback in callbacks:
                callback.on_batch_end(batch, {"loss": losses[-1]})
        val = evaluate_loader(model, val_loader)
        logs = {"loss": float(np.mean(losses)), "val_loss": val["loss"], "val_accuracy": val["accuracy"]}
        history.append(logs)
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        if any(callback.stop_training for callback in callbacks):
            break
    for callback in callbacks:
        callback.on_train_end(model)
    model.eval()
    return history
'''

#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex1_errors": PRINT_INSTEAD_OF_LOGGING,
    "ex2_config": UNKNOWN_KEYS_IGNORED,
    "ex4_normalizer": BATCH_STATISTICS,
    "ex5_callbacks": LIVE_STATE_DICT,
}


# Raccourci : faire valider par labkit.config (la référence du cours) au lieu d'écrire le chargeur.
REFERENCE_CONFIG_LOADER = '''from labkit.config import load_config as labkit_load_config
from labkit.config import save_config as labkit_save_config


class OptimizerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(3e-3, gt=0, le=1)
    weight_decay: float = Field(0.0, ge=0)


class TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(64, ge=1)
    patience: int | None = Field(3, ge=1)


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    seed: int = Field(0, ge=0)
    device: Literal["auto", "cpu", "gpu"] = "auto"
    output_dir: str = "runs"
    data: DataConfig = DataConfig()
    model: ModelConfig
    optimizer: OptimizerConfig = OptimizerConfig()
    training: TrainingConfig = TrainingConfig()


def load_config(path):
    try:
        return labkit_load_config(path, RunConfig)
    except labkit.LabkitError as error:
        raise ConfigurationError(str(error)) from None


def save_config(config, folder):
    return labkit_save_config(config, Path(folder) / "config.yaml")
'''

# Raccourci : déléguer au registre de labkit (la référence du cours) au lieu d'écrire build_model.
REFERENCE_REGISTRY = '''from labkit.models import build_model as labkit_build_model

ARCHITECTURES = {}


def register(name):
    def decorator(builder):
        ARCHITECTURES[name] = builder
        return builder

    return decorator


def build_model(name, **options):
    if name in ARCHITECTURES:
        return ARCHITECTURES[name](**options)
    try:
        return labkit_build_model(name, **options)
    except labkit.LabkitError as error:
        raise ConfigurationError(f"{error} ; aussi : {', '.join(ARCHITECTURES)}") from None
'''

# Raccourci : un test de bout en bout qui ne vérifie presque rien (il passerait sur un artefact faux).
WEAK_SMOKE_TEST = '''def test_smoke_workflow(tmp_path):
    result = run_pipeline(smoke_config(), tmp_path)
    assert result.artifact.is_file()
    assert 0.0 <= result.metrics["val_accuracy"] <= 1.0
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, test qui ne teste rien).
SHORTCUTS = {
    "ex2_config": REFERENCE_CONFIG_LOADER,
    "ex3_registry": REFERENCE_REGISTRY,
    "ex6_smoke_test": WEAK_SMOKE_TEST,
}


# Autre convention acceptée : l'écart-type de PyTorch (non biaisé, ddof=1) et des calculs en tenseurs.
TORCH_STATISTICS = '''class Normalizer:
    def __init__(self, mean, std):
        self.mean = float(mean)
        self.std = float(std)

    @classmethod
    def fit(cls, images):
        pixels = torch.as_tensor(np.asarray(images), dtype=torch.float64)
        return cls(pixels.mean().item(), pixels.std().item())

    def __call__(self, images):
        x = torch.as_tensor(np.array(images, dtype=np.float32))
        x = x.reshape(len(x), 1, *x.shape[-2:])
        return (x - self.mean) / self.std

    def state_dict(self):
        return dict(mean=self.mean, std=self.std)

    @classmethod
    def from_state_dict(cls, state):
        return cls(**state)
'''

#: Réponses justes écrites autrement : elles gardent tous leurs points.
ACCEPTED = {
    "ex4_normalizer": TORCH_STATISTICS,
}
