"""Inputs and outputs of the file commands: expanding files, folders and globs, deriving
output names, refusing overwrites, and running a command over many files."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinify.files import find_files

__all__ = ["Job", "plan", "run_jobs"]


@dataclass(frozen=True)
class Job:
    """One file to process: ``src`` → ``dst``."""

    src: Path
    dst: Path


def plan(
    patterns: Sequence[str],
    suffixes: Sequence[str],
    out: str | None,
    out_suffix: str,
    *,
    force: bool = False,
) -> list[Job]:
    """The jobs for ``patterns`` (files, folders searched recursively for ``suffixes``, globs).

    The output of ``photo.png`` is ``photo`` + ``out_suffix`` beside it; with ``-o OUT``, OUT
    itself when there is one input file and OUT is not a folder, else ``OUT/photo`` +
    ``out_suffix`` (files found in a folder keep their path below it).

    Raises:
        FileNotFoundError: for a missing input or an empty folder or glob.
        FileExistsError: if an output exists and ``force`` is False (checked for every job
            before any runs).
        ValueError: if two inputs would write the same output.
    """
    found = find_files(patterns, suffixes)
    into_folder = out is not None and (
        len(found) > 1
        or any(base is not None for _, base in found)
        or Path(out).is_dir()
        or out.endswith(("/", os.sep))
    )
    jobs = []
    for src, base in found:
        if out is None:
            dst = src.with_suffix(out_suffix)
        elif into_folder:
            relative = src.relative_to(base) if base is not None else Path(src.name)
            dst = Path(out) / relative.with_suffix(out_suffix)
        else:
            dst = Path(out)
        jobs.append(Job(src, dst))
    seen: dict[Path, Path] = {}
    for job in jobs:
        key = job.dst.resolve()
        if key in seen:
            raise ValueError(f"{seen[key]} and {job.src} would both be written to {job.dst}")
        if key == job.src.resolve():
            raise ValueError(f"{job.src} would be overwritten by its own output")
        seen[key] = job.src
    if not force:
        existing = [job.dst for job in jobs if job.dst.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise FileExistsError(f"{existing[0]} exists{more}: use -f/--force to overwrite")
    return jobs


def run_jobs(
    command: str,
    jobs: Sequence[Job],
    work: Callable[[Job], Any],
    describe: Callable[[Job, Any], str],
    *,
    quiet: bool = False,
) -> int:
    """Runs ``work`` on each job, printing ``describe(job, result)`` per file (unless
    ``quiet``) and a progress bar for many files on a terminal.

    A user error on one file (ValueError, TypeError, OSError) is reported as one stderr line
    naming the file, and the other files still run; the status is 1 if any file failed.
    """
    from tqdm import tqdm

    from tinify.cli.main import error_line

    failures = 0
    bar = tqdm(jobs, unit="file", disable=True if quiet or len(jobs) < 2 else None, leave=False)
    for job in bar:
        bar.set_postfix_str(job.src.name, refresh=False)
        for dst in (job.dst.parent,):
            dst.mkdir(parents=True, exist_ok=True)
        try:
            result = work(job)
        except (ValueError, TypeError, OSError) as err:
            failures += 1
            bar.clear()
            print(error_line(command, ValueError(f"{job.src}: {err}")), file=sys.stderr)
            continue
        if not quiet:
            bar.write(describe(job, result), file=sys.stdout)
    bar.close()
    return 1 if failures else 0


def human_bytes(n: int) -> str:
    """``1234`` → ``"1,234 B"``, ``123456`` → ``"120.6 KiB"``."""
    if n < 10 * 1024:
        return f"{n:,} B"
    if n < 10 * 1024**2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024**2:.1f} MiB"
