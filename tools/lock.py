"""Write requirements.lock: pyproject.toml's dependencies plus the dev extra, resolved by pip.

Run as `make lock`. The resolution happens in a throwaway venv so that nothing already in .venv
(Ray from `make install-ray`, anything installed by hand) leaks into the pins, and with
`--dry-run --report` so that it reads the packages' metadata without downloading torch's
gigabytes of wheels; `make install` then installs exactly the written set.

Standard library only: the lock is what .venv is built from, so this cannot need .venv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = "# Pinned, resolved set for .venv (regenerate: make lock). Installed by `make install`."
PROJECT = "influencer-lens"
# The Ray extra stays out: `make install-ray` installs it on request, pinned in the Makefile.
EXTRAS = "dev"


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def pins(report: dict) -> list[str]:
    """`name==version` for every package the report would install, less the project itself.

    Sorted case-insensitively like the lock has always been, so a re-lock diffs line by line.
    """
    lines = [
        f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in report["install"]
        if _canonical(item["metadata"]["name"]) != PROJECT
    ]
    return sorted(lines, key=str.lower)


def resolve(project_dir: Path, python: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="lock-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        report_path = Path(tmp) / "report.json"
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--dry-run",
                # Resolve every requirement, also those the fresh venv happens to satisfy
                # (setuptools, which face_recognition_models needs for pkg_resources): a venv on
                # another Python may not ship it, so the lock must name it.
                "--ignore-installed",
                "--report",
                str(report_path),
                f"{project_dir}[{EXTRAS}]",
            ],
            check=True,
        )
        return json.loads(report_path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="folder of pyproject.toml")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for the throwaway venv"
    )
    parser.add_argument("--out", type=Path, default=Path("requirements.lock"))
    args = parser.parse_args(argv)

    lines = pins(resolve(args.project.resolve(), args.python))
    args.out.write_text("\n".join([HEADER, *lines]) + "\n")
    print(f"{args.out}: {len(lines)} packages pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
