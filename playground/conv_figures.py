"""The convolutions page's Streamlit side: an uploaded image decoded with
Pillow (Streamlit's own dependency) after core's checks, the words for what
can go wrong with it, and small figures of kernels and feature maps."""
from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from core.ops.conv2d import MAX_SIDE, ImageError, check_image_bytes, check_pixels, image_from_array

from . import charts, grid
from .i18n import t

# The words are in locales/<lang>/conv_figures.toml, by ImageError's code.
PROBLEMS = ("empty", "too_large", "not_an_image", "undecodable", "too_many_pixels")


def decode_image(data: bytes) -> torch.Tensor:
    """The upload as a grayscale (H, W) tensor in [0, 1], at most MAX_SIDE a
    side, or ImageError: core's checks on the bytes, the size in the header
    checked before the pixels are read, then Pillow decodes."""
    from PIL import Image, UnidentifiedImageError

    kind = check_image_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG" if kind == "png" else "JPEG"]) as im:
                check_pixels(*im.size)
                im.load()
                mode = "RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB" if im.mode not in ("L", "I;16", "I") else "L"
                pixels = np.asarray(im.convert(mode))
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as err:
        raise ImageError("undecodable", kind=kind) from err
    return image_from_array(pixels)


def image_problem(err: ImageError) -> str:
    """Why an uploaded image cannot be used, in words."""
    d = dict(err.details)
    if err.code == "too_large":
        d.update(size=d["size"] / 2**20, limit=d["limit"] / 2**20)
    if err.code == "undecodable":
        d["kind"] = d["kind"].upper()
    return t(f"conv_figures.image.{err.code}" if err.code in PROBLEMS else "conv_figures.image.other", **d)


def kernel_figure(K, title: str, cell_px: int = 56):
    """A kernel's numbers on a diverging colour scale (white is zero)."""
    return grid.grid_figure(K, title=title, colorscale=charts.DIVERGING, cell_px=cell_px)


def map_figure(values, title: str, *, signed: bool = True, height: int = 300):
    """A feature map or image: gray for an image, red-blue about zero for a map."""
    return grid.image_figure(values, title, height=height, colorscale=charts.DIVERGING if signed else charts.GRAYS)


__all__ = ["MAX_SIDE", "decode_image", "image_problem", "kernel_figure", "map_figure"]
