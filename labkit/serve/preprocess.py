"""Prétraitement des images : **le même code** pour l'entraînement et pour le service.

Un modèle ne voit jamais une « photo » : il voit un tenseur. Si le service prépare
ses images autrement que les données d'entraînement (autre taille, autre gris,
autre normalisation), ses prédictions se dégradent sans aucun message d'erreur.
Ce module est donc l'unique chemin des pixels vers le tenseur :

1. décodage des octets (PNG, JPEG, WebP, BMP… avec Pillow, orientation EXIF appliquée) ;
2. passage en niveaux de gris sur 8 bits (la transparence est posée sur du blanc) ;
3. redimensionnement du plus petit côté à la taille d'entrée du modèle, puis recadrage central ;
4. ``float32`` dans [0, 1], puis normalisation ``(x − moyenne) / écart-type``
   avec les statistiques **des données d'entraînement** rangées dans l'artefact.

Les images déjà décodées (``make_pcb_defects(...).images``, flottants dans [0, 1])
passent par :func:`preprocess_arrays`, qui les arrondit sur 8 bits comme un PNG :
une image donne donc exactement le même tenseur, qu'elle arrive en tableau ou en PNG.

>>> import numpy as np
>>> images = np.random.default_rng(0).random((3, 64, 64), dtype=np.float32)
>>> mean, std = normalization_stats(images)
>>> x = preprocess_arrays(images, input_size=64, mean=mean, std=std)
>>> x.shape, x.dtype
((3, 1, 64, 64), dtype('float32'))
>>> np.array_equal(preprocess_bytes(encode_png(images[0]), input_size=64, mean=mean, std=std), x[0])
True
"""

from __future__ import annotations

import io

import numpy as np

from ..errors import DataError, LabkitError
from ..validation import validate_array, validate_float, validate_int

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MIN_SIZE",
    "ImageDecodeError",
    "ImageSizeError",
    "ImageTooLargeError",
    "decode_image",
    "encode_png",
    "normalization_stats",
    "preprocess_arrays",
    "preprocess_bytes",
]

#: En dessous de ce côté (en pixels), une image ne contient pas assez d'information : refusée.
DEFAULT_MIN_SIZE = 16
#: Au-delà de ce nombre de pixels (40 mégapixels), le décodage est refusé (protection mémoire).
DEFAULT_MAX_PIXELS = 40_000_000


class ImageDecodeError(DataError):
    """Les octets reçus ne forment pas une image lisible (format inconnu, fichier tronqué)."""


class ImageSizeError(DataError):
    """L'image est lisible mais trop petite pour le modèle."""


class ImageTooLargeError(DataError):
    """L'image dépasse le nombre de pixels autorisé."""


def _check_stats(mean, std) -> tuple[float, float]:
    mean = validate_float("mean", mean, minimum=0, maximum=1)
    std = validate_float("std", std, minimum=0, maximum=1, exclusive_minimum=True)
    return mean, std


def normalization_stats(images) -> tuple[float, float]:
    """Moyenne et écart-type des pixels, à calculer **sur les seules images d'entraînement**.

    Les images sont d'abord arrondies sur 8 bits, comme dans :func:`preprocess_arrays`.

    >>> normalization_stats(np.array([[[0.0, 1.0]]]))
    (0.5, 0.5)
    """
    images = validate_array("images", images, min_ndim=2).astype(np.float32)
    pixels = _quantize(images).astype(np.float64) / 255.0
    return float(pixels.mean()), float(max(pixels.std(), 1e-6))


def _quantize(images: np.ndarray) -> np.ndarray:
    """Flottants dans [0, 1] → entiers 0 à 255 (arrondi au plus proche), comme un PNG 8 bits."""
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def encode_png(image) -> bytes:
    """Encode une image en niveaux de gris (flottants dans [0, 1], forme (H, W)) en PNG 8 bits, sans perte.

    >>> encode_png(np.zeros((20, 20), np.float32))[:4]
    b'\\x89PNG'
    """
    from PIL import Image

    image = validate_array("image", image, min_ndim=2, max_ndim=2).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(_quantize(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def _to_grey(image):
    """Une image Pillow de n'importe quel mode → mode ``L`` (gris, 8 bits)."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # PNG 16 bits : garder les 8 bits de poids fort
        values = np.asarray(image, dtype=np.float64)
        scale = 257.0 if values.max(initial=0) > 255 else 1.0
        return Image.fromarray(np.clip(np.round(values / scale), 0, 255).astype(np.uint8))
    if image.mode == "F":
        return Image.fromarray(_quantize(np.asarray(image, dtype=np.float32)))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L")


def decode_image(data: bytes, *, min_size: int = DEFAULT_MIN_SIZE, max_pixels: int = DEFAULT_MAX_PIXELS):
    """Décode des octets d'image en une image Pillow en niveaux de gris (mode ``L``).

    Lève :class:`ImageDecodeError` si les octets ne sont pas une image lisible,
    :class:`ImageTooLargeError` au-delà de ``max_pixels`` pixels et
    :class:`ImageSizeError` si un côté mesure moins de ``min_size`` pixels.

    >>> decode_image(encode_png(np.ones((20, 30)))).size
    (30, 20)
    """
    from PIL import Image, ImageOps

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise LabkitError(f"`data` doit contenir les octets d'une image, reçu {type(data).__name__}.")
    min_size = validate_int("min_size", min_size, minimum=1)
    max_pixels = validate_int("max_pixels", max_pixels, minimum=1)
    if len(data) == 0:
        raise ImageDecodeError("L'image est vide (0 octet).")
    try:
        image = Image.open(io.BytesIO(bytes(data)))
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLargeError(
                f"L'image est trop grande : {width}×{height} pixels, au plus {max_pixels:,} pixels acceptés.".replace(",", " ")
            )
        image.load()
        image = ImageOps.exif_transpose(image)
        grey = _to_grey(image)
    except LabkitError:
        raise
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"L'image est trop grande : au plus {max_pixels:,} pixels acceptés.".replace(",", " ")) from None
    except Exception:  # Pillow lève OSError, SyntaxError, ValueError, zlib.error… selon le format
        raise ImageDecodeError(
            "Le fichier n'est pas une image lisible (format inconnu, fichier tronqué ou corrompu). "
            "Formats acceptés : PNG, JPEG, WebP, BMP, GIF, TIFF."
        ) from None
    _check_min_size(grey.size, min_size)
    return grey


def _check_min_size(size: tuple[int, int], min_size: int) -> None:
    width, height = size
    if min(width, height) < min_size:
        raise ImageSizeError(
            f"L'image est trop petite : {width}×{height} pixels ; il faut au moins {min_size} pixels de côté."
        )


def _resize_and_crop(grey, input_size: int):
    """Plus petit côté ramené à ``input_size`` (bilinéaire), puis recadrage central carré."""
    from PIL import Image

    width, height = grey.size
    if (width, height) == (input_size, input_size):
        return grey
    scale = input_size / min(width, height)
    new_w, new_h = max(input_size, round(width * scale)), max(input_size, round(height * scale))
    if (new_w, new_h) != (width, height):
        grey = grey.resize((new_w, new_h), Image.Resampling.BILINEAR)
    left, top = (new_w - input_size) // 2, (new_h - input_size) // 2
    return grey.crop((left, top, left + input_size, top + input_size))


def _normalize(pixels: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Entiers 0 à 255 (…, H, W) → tenseur ``float32`` (…, 1, H, W) normalisé."""
    x = pixels.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(mean)) / np.float32(std)
    return np.ascontiguousarray(x[..., None, :, :], dtype=np.float32)


def preprocess_bytes(data: bytes, *, input_size: int, mean: float, std: float, min_size: int = DEFAULT_MIN_SIZE,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Octets d'une image → tenseur ``float32`` de forme (1, ``input_size``, ``input_size``), prêt pour le modèle.

    >>> preprocess_bytes(encode_png(np.ones((80, 120))), input_size=64, mean=0.5, std=0.25).shape
    (1, 64, 64)
    """
    input_size = validate_int("input_size", input_size, minimum=1)
    mean, std = _check_stats(mean, std)
    grey = decode_image(data, min_size=min_size, max_pixels=max_pixels)
    return _normalize(np.asarray(_resize_and_crop(grey, input_size)), mean, std)


def preprocess_arrays(images, *, input_size: int, mean: float, std: float, min_size: int = DEFAULT_MIN_SIZE) -> np.ndarray:
    """Images déjà décodées (flottants dans [0, 1], forme (N, H, W) ou (H, W)) → lot ``float32`` (N, 1, S, S).

    C'est la fonction à utiliser pour préparer les données d'entraînement : elle donne
    exactement le tenseur que le service calculera pour le PNG de la même image.

    >>> preprocess_arrays(np.zeros((2, 32, 48)), input_size=24, mean=0.5, std=0.5).shape
    (2, 1, 24, 24)
    """
    images = validate_array("images", images, min_ndim=2, max_ndim=3).astype(np.float32)
    if images.ndim == 2:
        images = images[None]
    input_size = validate_int("input_size", input_size, minimum=1)
    mean, std = _check_stats(mean, std)
    min_size = validate_int("min_size", min_size, minimum=1)
    _check_min_size((images.shape[2], images.shape[1]), min_size)
    pixels = _quantize(images)
    if pixels.shape[1:] != (input_size, input_size):
        from PIL import Image

        pixels = np.stack([np.asarray(_resize_and_crop(Image.fromarray(p), input_size)) for p in pixels])
    return _normalize(pixels, mean, std)
