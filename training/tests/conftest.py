"""Shared fixtures. Tests that need the CirCor corpus read $PHONOSCOPE_DATA (default <repo>/../shared/data); when it
is missing they SKIP locally but FAIL when CI=true, so CI cannot go green without the data."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from phonoscope_training import data  # noqa: E402


@pytest.fixture(scope="session")
def circor_root() -> Path:
    root = data.circor_root()
    if not (root / "manifest.csv").exists():
        msg = f"CirCor corpus not found at {root} (set PHONOSCOPE_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return root


@pytest.fixture(scope="session")
def recordings(circor_root):
    return data.read_manifest(circor_root)
