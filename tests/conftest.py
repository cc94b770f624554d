import sys
from pathlib import Path

# tests/ helpers (eyeshots_cli) import as top-level modules under --import-mode=importlib
sys.path.insert(0, str(Path(__file__).resolve().parent))
