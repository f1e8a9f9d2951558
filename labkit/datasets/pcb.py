"""Images synthétiques de circuits imprimés (PCB) avec un défaut, générées hors ligne.

Fil rouge du cours : chaque image montre un morceau de carte (pistes et pastilles
percées) portant **exactement un** des six défauts du jeu PKU-Market-PCB.
Tout est produit par NumPy à partir d'une graine : aucune donnée n'est téléchargée,
et la même graine redonne les mêmes octets.

Introduit dans le notebook 01 ; la présentation complète est dans la page
« Les données du cours » du site.

>>> from labkit.datasets import make_pcb_defects
>>> data = make_pcb_defects(n_images=12, image_size=32, seed=0)
>>> data.images.shape, data.images.dtype
((12, 32, 32), dtype('float32'))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import LabkitError
from ..validation import validate_float, validate_int

#: Les six classes de défauts, dans l'ordre des étiquettes (0 à 5).
DEFECT_CLASSES: tuple[str, ...] = (
    "missing_hole",
    "mouse_bite",
    "open_circuit",
    "short",
    "spur",
    "spurious_copper",
)

#: Noms français affichés dans les figures et les messages.
DEFECT_LABELS_FR: dict[str, str] = {
    "missing_hole": "trou manquant",
    "mouse_bite": "morsure",
    "open_circuit": "circuit ouvert",
    "short": "court-circuit",
    "spur": "éperon",
    "spurious_copper": "cuivre parasite",
}

_SUBSTRATE, _COPPER, _HOLE = 0.22, 0.78, 0.05


@dataclass(frozen=True)
class Camera:
    """Réglages de la « caméra » qui photographie les cartes.

    ``contrast`` multiplie l'écart au gris moyen, ``brightness`` s'ajoute,
    ``blur`` est l'écart-type (en pixels) d'un flou gaussien et ``noise``
    celui d'un bruit gaussien additif. ``jitter`` fait varier contraste et
    luminosité d'une image à l'autre (écart-type relatif).
    """

    contrast: float = 1.0
    brightness: float = 0.0
    blur: float = 0.6
    noise: float = 0.08
    jitter: float = 0.08

    def __post_init__(self):
        validate_float("camera.contrast", self.contrast, minimum=0, exclusive_minimum=True)
        validate_float("camera.brightness", self.brightness, minimum=-1, maximum=1)
        validate_float("camera.blur", self.blur, minimum=0, maximum=5)
        validate_float("camera.noise", self.noise, minimum=0, maximum=1)
        validate_float("camera.jitter", self.jitter, minimum=0, maximum=1)


#: Une autre caméra : moins contrastée, plus sombre, plus floue et plus bruitée. Les défauts
#: restent visibles à l'œil : ce qui change, ce sont les pixels, pas l'information.
NEW_CAMERA = Camera(contrast=0.7, brightness=-0.1, blur=0.9, noise=0.10, jitter=0.1)


@dataclass
class PCBDefects:
    """Un lot d'images de PCB étiquetées.

    Attributs : ``images`` (N, H, W) en ``float32`` dans [0, 1], ``labels`` (N,)
    entiers, ``board_ids`` (N,) identifiant de carte (plusieurs vues d'une même
    carte partagent le même identifiant), ``class_names`` et ``params``
    (les réglages qui ont produit le lot).
    """

    images: np.ndarray
    labels: np.ndarray
    board_ids: np.ndarray
    class_names: tuple[str, ...] = DEFECT_CLASSES
    params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        parts = ", ".join(f"{DEFECT_LABELS_FR[c]}={n}" for c, n in zip(self.class_names, counts))
        n, h, w = self.images.shape
        return f"PCBDefects({n} images {h}×{w}, {len(np.unique(self.board_ids))} cartes ; {parts})"

    def subset(self, indices) -> "PCBDefects":
        """Renvoie le sous-ensemble ``indices`` (mêmes réglages)."""
        indices = np.asarray(indices)
        return PCBDefects(self.images[indices], self.labels[indices], self.board_ids[indices], self.class_names, dict(self.params))


def _class_counts(n: int, proportions: np.ndarray) -> np.ndarray:
    """Répartit ``n`` images selon ``proportions`` (méthode du plus fort reste)."""
    raw = proportions * n
    counts = np.floor(raw).astype(int)
    remainder = n - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def _resolve_proportions(class_proportions) -> np.ndarray:
    if class_proportions is None:
        return np.full(len(DEFECT_CLASSES), 1 / len(DEFECT_CLASSES))
    if isinstance(class_proportions, dict):
        unknown = set(class_proportions) - set(DEFECT_CLASSES)
        if unknown:
            raise LabkitError(
                f"`class_proportions` contient des classes inconnues : {sorted(unknown)} ; "
                f"classes possibles : {', '.join(DEFECT_CLASSES)}."
            )
        values = np.array([class_proportions.get(c, 0.0) for c in DEFECT_CLASSES], dtype=float)
    else:
        values = np.asarray(class_proportions, dtype=float)
        if values.shape != (len(DEFECT_CLASSES),):
            raise LabkitError(
                f"`class_proportions` doit avoir {len(DEFECT_CLASSES)} valeurs (une par classe), reçu la forme {values.shape}."
            )
    if np.any(values < 0) or not np.isfinite(values).all() or values.sum() <= 0:
        raise LabkitError("`class_proportions` doit contenir des nombres positifs ou nuls, de somme strictement positive.")
    return values / values.sum()


class _Board:
    """Dessin d'une carte : masques de cuivre et de perçages, puis un défaut."""

    def __init__(self, size: int, rng: np.random.Generator):
        self.size = size
        self.rng = rng
        self.scale = size / 64
        self.copper = np.zeros((size, size), dtype=bool)
        self.holes = np.zeros((size, size), dtype=bool)
        self.h_traces: list[tuple[int, int, int, int]] = []  # (row, width, x0, x1)
        self.pads: list[tuple[int, int, int, int]] = []  # (cy, cx, radius, hole_radius)
        yy, xx = np.mgrid[0:size, 0:size]
        self._yy, self._xx = yy, xx

    def disc(self, cy: float, cx: float, radius: float) -> np.ndarray:
        return (self._yy - cy) ** 2 + (self._xx - cx) ** 2 <= radius**2

    def draw_layout(self):
        s, size, rng = self.scale, self.size, self.rng
        width = max(3, round(4 * s))
        n_rows = rng.integers(2, 4)
        margin = round(8 * s)
        # Rangées horizontales espacées : laisse de la place aux défauts entre les pistes.
        rows = np.sort(rng.choice(np.arange(margin, size - margin, max(1, round(4 * s))), n_rows, replace=False))
        while len(rows) > 1 and np.min(np.diff(rows)) < round(11 * s):
            rows = np.sort(rng.choice(np.arange(margin, size - margin, max(1, round(4 * s))), n_rows, replace=False))
        for row in rows:
            x0 = int(rng.integers(0, round(10 * s)))
            x1 = int(size - rng.integers(0, round(10 * s)))
            top = row - width // 2
            self.copper[top : top + width, x0:x1] = True
            self.h_traces.append((int(top), width, x0, x1))
            for end in (x0, x1 - 1):
                if round(6 * s) <= end <= size - round(6 * s) - 1:
                    self.add_pad(row, end)
        # Une piste verticale, parfois, et quelques pastilles isolées.
        if rng.random() < 0.6:
            col = int(rng.integers(margin, size - margin))
            y0, y1 = int(rng.integers(0, size // 3)), int(rng.integers(2 * size // 3, size))
            self.copper[y0:y1, col - width // 2 : col - width // 2 + width] = True
        for _ in range(int(rng.integers(1, 3))):
            cy, cx = self.free_point(distance=round(6 * s))
            if cy is not None:
                self.add_pad(cy, cx)

    def add_pad(self, cy: int, cx: int):
        radius = 3.6 * self.scale
        hole = 1.5 * self.scale
        self.copper |= self.disc(cy, cx, radius)
        self.pads.append((int(cy), int(cx), radius, hole))

    def free_point(self, distance: int, tries: int = 40):
        """Un point du substrat à au moins ``distance`` pixels de tout cuivre."""
        size, rng = self.size, self.rng
        for _ in range(tries):
            cy, cx = int(rng.integers(distance, size - distance)), int(rng.integers(distance, size - distance))
            if not self.copper[cy - distance : cy + distance + 1, cx - distance : cx + distance + 1].any():
                return cy, cx
        return None, None

    def punch_holes(self, skip: int | None = None):
        for i, (cy, cx, _, hole) in enumerate(self.pads):
            if i != skip:
                self.holes |= self.disc(cy, cx, hole)

    def trace_point(self, margin: int):
        """Une position sur une piste horizontale, loin des pastilles."""
        for _ in range(40):
            top, width, x0, x1 = self.h_traces[int(self.rng.integers(len(self.h_traces)))]
            if x1 - x0 <= 2 * margin + 2:
                continue
            x = int(self.rng.integers(x0 + margin, x1 - margin))
            near_pad = any(abs(x - cx) < margin and top - 6 <= cy <= top + width + 6 for cy, cx, _, _ in self.pads)
            # Une piste verticale qui croise ici masquerait le défaut.
            crossing = self.copper[max(0, top - 3) : top, max(0, x - 5) : x + 6].any() or self.copper[
                top + width : top + width + 3, max(0, x - 5) : x + 6
            ].any()
            if not (near_pad or crossing):
                return top, width, x
        top, width, x0, x1 = self.h_traces[0]
        return top, width, (x0 + x1) // 2

    def room_around(self, top: int, width: int, x: int) -> tuple[int, int]:
        """Pixels de substrat libres au-dessus et au-dessous de la piste, dans la colonne ``x``."""
        column = self.copper[:, x]
        above = column[:top][::-1]
        below = column[top + width :]
        first = lambda c: int(np.argmax(c)) if c.any() else len(c)  # noqa: E731
        return first(above), first(below)

    def add_defect(self, defect: str, strength: float):
        """Dessine ``defect`` ; ``strength`` (≈0.5 à 1.3) règle sa taille."""
        if defect == "missing_hole":
            self._missing_hole()
            return
        self.punch_holes()
        {
            "open_circuit": self._open_circuit,
            "mouse_bite": self._mouse_bite,
            "short": self._short,
            "spur": self._spur,
            "spurious_copper": self._spurious_copper,
        }[defect](strength)

    def _missing_hole(self):
        if not self.pads:
            cy, cx = self.free_point(distance=round(5 * self.scale))
            self.add_pad(self.size // 2 if cy is None else cy, self.size // 2 if cx is None else cx)
        self.punch_holes(skip=int(self.rng.integers(len(self.pads))))

    def _open_circuit(self, strength: float):
        top, width, x = self.trace_point(margin=round(8 * self.scale))
        gap = max(1, round(self.rng.uniform(2.0, 3.5) * self.scale * strength))
        self.copper[top - 1 : top + width + 1, x : x + gap] = False

    def _mouse_bite(self, strength: float):
        s, rng = self.scale, self.rng
        top, width, x = self.trace_point(margin=round(8 * s))
        from_top = rng.random() < 0.5
        edge = top - 0.5 if from_top else top + width - 0.5
        radius = rng.uniform(1.8, 2.6) * s * strength
        bite = self.disc(edge, x, radius)
        # Une morsure ronge le bord sans couper la piste : garder au moins deux lignes de cuivre.
        kept = slice(top + width - 2, top + width) if from_top else slice(top, top + 2)
        bite[kept, :] = False
        self.copper &= ~bite

    def _short(self, strength: float):
        s, rng = self.scale, self.rng
        if len(self.h_traces) < 2:  # pragma: no cover - la mise en page garantit deux pistes
            self.copper[:, self.size // 2] = True
            return
        i = int(rng.integers(len(self.h_traces) - 1))
        (t1, w1, a0, a1), (t2, _, b0, b1) = self.h_traces[i], self.h_traces[i + 1]
        lo, hi = max(a0, b0) + round(4 * s), min(a1, b1) - round(4 * s)
        between = self.copper[t1 + w1 : t2]
        margin = round(4 * s)
        # Le pont doit rester visible : loin des pistes verticales et des pastilles.
        free = [c for c in range(lo, hi) if not between[:, max(0, c - margin) : c + margin + 1].any()]
        x = int(rng.choice(free)) if free else ((lo + hi) // 2 if hi > lo else lo)
        # Un pont fin et oblique, contrairement aux pistes verticales droites.
        bridge = max(2, round(rng.uniform(1.5, 2.5) * s * strength))
        drift = rng.uniform(-0.6, 0.6)
        for k, row in enumerate(np.arange(t1 + w1, t2)):
            col = int(round(x + drift * k))
            self.copper[row, max(0, col) : col + bridge] = True

    def _spur(self, strength: float):
        s, rng = self.scale, self.rng
        top, width, x = self.trace_point(margin=round(8 * s))
        # Un éperon pointu qui part de la piste sans jamais atteindre la voisine.
        room_above, room_below = self.room_around(top, width, x)
        upward = room_above >= room_below
        room = room_above if upward else room_below
        length = int(np.clip(round(rng.uniform(4.0, 6.5) * s * strength), 2, max(2, room - round(3 * s))))
        base = max(2, round(rng.uniform(2.0, 3.0) * s))
        for k in range(length):
            half = base * (1 - k / length) / 2
            row = top - 1 - k if upward else top + width + k
            if 0 <= row < self.size:
                self.copper[row, max(0, int(np.floor(x - half))) : int(np.ceil(x + half)) + 1] = True

    def _spurious_copper(self, strength: float):
        s, rng = self.scale, self.rng
        cy, cx = self.free_point(distance=round(5 * s))
        if cy is None:
            cy, cx = int(rng.integers(4, self.size - 4)), int(rng.integers(4, self.size - 4))
        radius = rng.uniform(1.5, 2.4) * s * strength
        blob = self.disc(cy, cx, radius)
        blob |= self.disc(cy + rng.uniform(-1, 1) * radius, cx + rng.uniform(-1, 1) * radius, radius * 0.7)
        self.copper |= blob

    def render(self, n_dust: int = 0) -> np.ndarray:
        """Image propre de la carte ; ``n_dust`` poussières ternes, qui ne sont pas des défauts."""
        image = np.full((self.size, self.size), _SUBSTRATE, dtype=np.float32)
        image[self.copper] = _COPPER
        image[self.holes] = _HOLE
        for _ in range(n_dust):
            cy, cx = self.rng.uniform(2, self.size - 2, size=2)
            speck = self.disc(cy, cx, self.rng.uniform(0.7, 1.6) * self.scale) & ~self.copper
            image[speck] = self.rng.uniform(0.40, 0.60)
        return image


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(2.5 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def _blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Flou gaussien séparable appliqué à un lot (N, H, W), bords répliqués."""
    if sigma <= 0:
        return images
    kernel = _gaussian_kernel(sigma)
    r = len(kernel) // 2
    padded = np.pad(images, ((0, 0), (r, r), (0, 0)), mode="edge")
    out = sum(k * padded[:, i : i + images.shape[1], :] for i, k in enumerate(kernel))
    padded = np.pad(out, ((0, 0), (0, 0), (r, r)), mode="edge")
    return sum(k * padded[:, :, i : i + images.shape[2]] for i, k in enumerate(kernel)).astype(np.float32)


def photograph(clean: np.ndarray, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """Applique la caméra (flou, contraste, luminosité, bruit) à des rendus propres."""
    n = len(clean)
    images = _blur(clean, camera.blur)
    contrast = camera.contrast * (1 + camera.jitter * rng.standard_normal(n)).astype(np.float32)
    brightness = (camera.brightness + camera.jitter * 0.5 * rng.standard_normal(n)).astype(np.float32)
    images = (images - 0.5) * contrast[:, None, None] + 0.5 + brightness[:, None, None]
    images += camera.noise * rng.standard_normal(images.shape).astype(np.float32)
    return np.clip(images, 0.0, 1.0).astype(np.float32)


def make_pcb_defects(
    n_images: int = 2000,
    *,
    image_size: int = 64,
    difficulty: float = 0.5,
    camera: Camera | None = None,
    class_proportions=None,
    views_per_board: int = 1,
    seed: int = 0,
) -> PCBDefects:
    """Génère ``n_images`` images de PCB portant chacune un défaut.

    Paramètres
    ----------
    n_images : nombre total d'images (≥ 1).
    image_size : côté des images en pixels (de 24 à 256).
    difficulty : de 0 (défauts grands et nets) à 1 (défauts petits, proches du bruit).
    camera : réglages de prise de vue, :class:`Camera` ; ``NEW_CAMERA`` simule un
        changement d'appareil (décalage de distribution).
    class_proportions : proportions des classes, liste de 6 nombres ou
        dictionnaire ``{"short": 0.5, ...}`` ; uniformes par défaut.
    views_per_board : nombre de photos de chaque carte (même défaut, prise de vue
        différente) ; utile pour montrer les fuites entre découpages.
    seed : graine ; la même graine redonne exactement les mêmes octets.

    >>> data = make_pcb_defects(60, image_size=32, views_per_board=3, seed=1)
    >>> len(data), len(set(data.board_ids))
    (60, 20)
    """
    n_images = validate_int("n_images", n_images, minimum=1)
    image_size = validate_int("image_size", image_size, minimum=24, maximum=256)
    difficulty = validate_float("difficulty", difficulty, minimum=0, maximum=1)
    views_per_board = validate_int("views_per_board", views_per_board, minimum=1, maximum=n_images)
    seed = validate_int("seed", seed, minimum=0)
    if camera is None:
        camera = Camera()
    elif not isinstance(camera, Camera):
        raise LabkitError(f"`camera` doit être un objet labkit.datasets.Camera, reçu {type(camera).__name__}.")
    proportions = _resolve_proportions(class_proportions)

    rng = np.random.default_rng(seed)
    n_boards = -(-n_images // views_per_board)
    board_labels = np.repeat(np.arange(len(DEFECT_CLASSES)), _class_counts(n_boards, proportions))
    rng.shuffle(board_labels)
    # La difficulté rétrécit les défauts et ajoute des poussières qui ressemblent à du cuivre parasite.
    strength_mean = 1.1 - 0.9 * difficulty
    dust_mean = 8.0 * difficulty

    clean = np.empty((n_boards, image_size, image_size), dtype=np.float32)
    for i, label in enumerate(board_labels):
        board = _Board(image_size, rng)
        board.draw_layout()
        board.add_defect(DEFECT_CLASSES[label], strength=max(0.3, rng.normal(strength_mean, 0.15)))
        clean[i] = board.render(n_dust=int(rng.poisson(dust_mean)))

    board_ids = np.repeat(np.arange(n_boards), views_per_board)[:n_images]
    # Les vues d'une même carte, tenue par un gabarit, ne diffèrent que par l'éclairage et le bruit du capteur.
    images = photograph(clean[board_ids], camera, rng)

    params = dict(
        n_images=n_images,
        image_size=image_size,
        difficulty=difficulty,
        camera=camera,
        class_proportions=proportions.round(4).tolist(),
        views_per_board=views_per_board,
        seed=seed,
    )
    return PCBDefects(images, board_labels[board_ids].astype(np.int64), board_ids.astype(np.int64), DEFECT_CLASSES, params)


def plot_pcb_examples(data: PCBDefects, *, per_class: int = 4, ax_size: float = 1.4):
    """Affiche une grille d'exemples étiquetés : une colonne par classe de défaut.

    Renvoie la figure Matplotlib.
    """
    import matplotlib.pyplot as plt

    if not isinstance(data, PCBDefects):
        raise LabkitError(f"`data` doit être un PCBDefects (make_pcb_defects), reçu {type(data).__name__}.")
    per_class = validate_int("per_class", per_class, minimum=1, maximum=20)
    n_classes = len(data.class_names)
    fig, axes = plt.subplots(per_class, n_classes, figsize=(ax_size * n_classes, ax_size * per_class), squeeze=False)
    for c, name in enumerate(data.class_names):
        indices = np.flatnonzero(data.labels == c)[:per_class]
        for r in range(per_class):
            ax = axes[r, c]
            ax.set_axis_off()
            if r < len(indices):
                ax.imshow(data.images[indices[r]], cmap="gray", vmin=0, vmax=1)
        axes[0, c].set_title(DEFECT_LABELS_FR[name], fontsize=9)
    fig.tight_layout()
    return fig
