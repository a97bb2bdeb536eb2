"""Before the first sbatch: can snakemake-executor-plugin-slurm follow its jobs on this cluster?

The plugin learns that a job has ended only from its status command. When that command fails
(``sacct`` without an accounting database) the plugin drops its jobs after a few tries and
Snakemake waits forever, deaf to SIGTERM; when a finished job is gone from ``squeue`` before the
plugin looks (slurmctld's ``MinJobAge`` shorter than the gap between two checks) the plugin
takes it for queued, forever. The workflow's ``onstart`` calls :func:`check` on a SLURM run,
which fails the run at once instead, with a message naming the setting to change.
"""

import subprocess

from snakemake_executor_plugin_slurm.job_status_query import (
    get_min_job_age,
    is_query_tool_available,
    query_job_status_sacct,
    query_job_status_squeue,
)

PROFILE = "workflow/profiles/slurm/config.yaml"
# The plugin's longest wait between two status checks (its back-off cap, seconds).
LONGEST_GAP = 180
# The plugin's own default for slurm-init-seconds-before-status-checks.
DEFAULT_INIT_SECONDS = 40


def status_command(settings) -> tuple[str, str]:
    """The status command the plugin will really use, and why (as check_active_jobs picks it).

    Args:
        settings: the plugin's settings (``workflow.executor_settings``).

    Returns:
        (command, reason): "squeue" or "sacct", and a sentence when the plugin turns from the
        squeue set to sacct.
    """
    asked = settings.status_command or ("sacct" if is_query_tool_available("sacct") else "squeue")
    init = settings.init_seconds_before_status_checks or DEFAULT_INIT_SECONDS
    min_job_age = get_min_job_age()
    if asked == "squeue" and is_query_tool_available("sacct"):
        if min_job_age is None or min_job_age < 3 * init:
            age = "unknown (`scontrol show config`)" if min_job_age is None else f"{min_job_age} s"
            return "sacct", (
                f"slurm-status-command is squeue, but the plugin turns to sacct because "
                f"slurmctld's MinJobAge ({age}) is below 3 x "
                f"slurm-init-seconds-before-status-checks ({init} s): lower that setting in "
                f"{PROFILE}, or ask the administrators to raise MinJobAge."
            )
    if asked == "sacct" and not is_query_tool_available("sacct"):
        return "squeue", ""  # the plugin's own fallback
    return asked, ""


def check(settings, seconds: float = 30) -> None:
    """Raise if the plugin's status command fails here, or would lose finished jobs.

    Args:
        settings: the plugin's settings (``workflow.executor_settings``).
        seconds: how long the status command may take.

    Raises:
        RuntimeError: naming the command, its error and the setting to change.
    """
    command, reason = status_command(settings)
    query = (query_job_status_squeue if command == "squeue" else query_job_status_sacct)(
        "dfp-preflight"
    )
    if reason:
        fix = reason
    elif command == "sacct":
        fix = (
            f"Set slurm-status-command: squeue in {PROFILE} (or --slurm-status-command "
            "squeue): sacct needs SLURM's accounting database."
        )
    else:
        fix = "Is slurmctld reachable from this machine (try `squeue`)?"
    advice = (
        "Without a working status command the plugin loses track of its jobs and Snakemake "
        f"waits forever. {fix}"
    )
    try:
        done = subprocess.run(query, shell=True, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"SLURM status check: `{query}` did not answer within {seconds:g} s. {advice}"
        ) from None
    if done.returncode != 0:
        raise RuntimeError(
            f"SLURM status check: `{command}` fails here ({done.stderr.strip()[-300:]}). {advice}"
        )
    min_job_age = get_min_job_age()
    if command == "squeue" and min_job_age is not None and min_job_age <= LONGEST_GAP:
        raise RuntimeError(
            f"SLURM status check: slurmctld forgets a finished job after MinJobAge = "
            f"{min_job_age} s, but the plugin may wait up to {LONGEST_GAP} s between two squeue "
            "checks: a job that ends just after one would look queued forever. Ask the "
            "administrators to raise MinJobAge above that, or use slurm-status-command: sacct "
            f"in {PROFILE} where SLURM keeps accounting."
        )
