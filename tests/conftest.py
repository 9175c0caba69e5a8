"""Shared test set-up: one torch thread (the machine has two cores shared by the
test process, the app under test and the browser), and the repository root on
sys.path for `tests/` helper modules."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
torch.set_num_threads(1)
