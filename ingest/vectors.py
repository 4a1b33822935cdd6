"""Vector helpers shared by extraction and clustering (no other ingest imports)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def l2_normalize(x: NDArray) -> NDArray[np.float32]:
    """Rows scaled to unit length, computed in the input's precision; (n, d) -> (n, d) float32."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)
