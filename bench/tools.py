"""What the comparisons need from outside Python: wrk (apt) and workerd (npm, in a cache folder)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
#: workerd ships its binary inside an npm package; the `workerd` package picks the platform's.
WORKERD_PACKAGE = "workerd"


def ensure_wrk() -> str:
    """The path of wrk, installed through apt when missing (the bench runs as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("bench: installing wrk (apt-get install -y wrk)", flush=True)
    subprocess.run(["apt-get", "update", "-q"], check=True)  # a fresh machine has no lists
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench: wrk is still missing after apt-get install")
    return found


def ensure_workerd() -> Path:
    """The workerd binary, installed with npm into bench/.cache when missing."""
    binary = CACHE / "node_modules" / ".bin" / "workerd"
    if not binary.exists():
        if shutil.which("npm") is None:
            raise SystemExit("bench: npm is needed to install workerd (apt-get install -y npm)")
        print(f"bench: installing workerd (npm install --prefix {CACHE})", flush=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", WORKERD_PACKAGE],
            check=True,
        )
    return binary


def workerd_version(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()
