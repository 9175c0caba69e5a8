"""Colour-vision deficiency: how a colour looks to a dichromat, and how far
apart two colours are (CIEDE2000), so that a palette can be checked.

Simulation: Machado, Oliveira and Fernandes (2009), "A physiologically-based
model for simulation of color vision deficiency", severity 1.0 (dichromacy),
applied to linear RGB (sRGB with its transfer curve undone), the way the
paper and colorspacious apply it. Differences: CIEDE2000 on CIELAB (D65),
checked against Sharma, Wu and Dalal's (2005) published test pairs."""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

# Machado et al. 2009, Table 1, severity 1.0; rows sum to 1 (white stays white)
MACHADO = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
DEFICIENCIES = tuple(MACHADO)
# linear sRGB -> CIE XYZ (D65), IEC 61966-2-1
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
WHITE_D65 = SRGB_TO_XYZ @ np.ones(3)


def hex_to_rgb(colour: str) -> np.ndarray:
    """'#rrggbb' (or '#rgb') as sRGB in [0, 1]."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if len(h) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=float) / 255.0


def rgb_to_hex(rgb) -> str:
    r, g, b = (int(round(float(v) * 255)) for v in np.clip(rgb, 0.0, 1.0))
    return f"#{r:02x}{g:02x}{b:02x}"


def srgb_to_linear(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(lin) -> np.ndarray:
    c = np.clip(np.asarray(lin, dtype=float), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(rgb, deficiency: str) -> np.ndarray:
    """sRGB colour(s) in [0, 1] (last axis 3) as seen with `deficiency`
    (protanopia, deuteranopia or tritanopia), as sRGB in [0, 1]."""
    if deficiency not in MACHADO:
        raise ValueError(f"unknown deficiency {deficiency!r}; one of {DEFICIENCIES}")
    lin = srgb_to_linear(rgb)
    return linear_to_srgb(lin @ MACHADO[deficiency].T)


def srgb_to_lab(rgb) -> np.ndarray:
    """CIELAB (D65) of sRGB colour(s) in [0, 1]."""
    xyz = srgb_to_linear(rgb) @ SRGB_TO_XYZ.T / WHITE_D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e76(lab1, lab2) -> float:
    return float(np.linalg.norm(np.asarray(lab1, dtype=float) - np.asarray(lab2, dtype=float)))


def delta_e2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (kL = kC = kH = 1)."""
    L1, a1, b1 = (float(v) for v in lab1)
    L2, a2, b2 = (float(v) for v in lab2)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cbar = (C1 + C2) / 2
    G = 0.5 * (1 - np.sqrt(Cbar ** 7 / (Cbar ** 7 + 25.0 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360 if C1p else 0.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360 if C2p else 0.0
    dLp, dCp = L2 - L1, C2p - C1p
    if C1p * C2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp / 2))
    Lbp, Cbp = (L1 + L2) / 2, (C1p + C2p) / 2
    if C1p * C2p == 0:
        hbp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbp = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hbp = (h1p + h2p + 360) / 2
    else:
        hbp = (h1p + h2p - 360) / 2
    T = (1 - 0.17 * np.cos(np.radians(hbp - 30)) + 0.24 * np.cos(np.radians(2 * hbp))
         + 0.32 * np.cos(np.radians(3 * hbp + 6)) - 0.20 * np.cos(np.radians(4 * hbp - 63)))
    dtheta = 30 * np.exp(-(((hbp - 275) / 25) ** 2))
    Rc = 2 * np.sqrt(Cbp ** 7 / (Cbp ** 7 + 25.0 ** 7))
    SL = 1 + 0.015 * (Lbp - 50) ** 2 / np.sqrt(20 + (Lbp - 50) ** 2)
    SC, SH = 1 + 0.045 * Cbp, 1 + 0.015 * Cbp * T
    RT = -np.sin(np.radians(2 * dtheta)) * Rc
    return float(np.sqrt((dLp / SL) ** 2 + (dCp / SC) ** 2 + (dHp / SH) ** 2 + RT * (dCp / SC) * (dHp / SH)))


def distances(colours: Sequence[str], deficiency: str | None = None) -> dict[tuple[int, int], float]:
    """CIEDE2000 between every pair (i < j) of '#rrggbb' colours, as seen with
    `deficiency` (None: normal vision)."""
    rgb = np.array([hex_to_rgb(c) for c in colours])
    if deficiency is not None:
        rgb = simulate(rgb, deficiency)
    lab = srgb_to_lab(rgb)
    return {(i, j): delta_e2000(lab[i], lab[j]) for i, j in itertools.combinations(range(len(colours)), 2)}


def closest_pairs(colours: Sequence[str]) -> dict[str, tuple[float, tuple[int, int]]]:
    """For normal vision and each deficiency, the smallest CIEDE2000 between two
    of the colours and which pair it is: {"normal": (ΔE, (i, j)), ...}."""
    out = {}
    for name in (None, *DEFICIENCIES):
        d = distances(colours, name)
        pair = min(d, key=d.get)
        out[name or "normal"] = (d[pair], pair)
    return out
