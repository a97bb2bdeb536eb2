"""Sphinx extension: how the book is built, drawn from the workflow at every build.

The directive ``dfp-rule-graph`` reads the Makefile's targets that run Snakemake (``make
book``, ``make sweep``, ``make results``: their ``$(SNAKEMAKE) --config ...`` line), asks
Snakemake for each one's rule graph (``snakemake --rulegraph``) and jobs (a dry run), offline
and in a scratch folder, and shows:

- one figure (inline SVG, drawn with matplotlib in layers: no Graphviz needed) with a panel
  per command, its rules as boxes, an arrow from the rule whose output another rule reads;
  a ``make`` target the recipe runs after Snakemake (``make render``: ``jupyter-book build``)
  is a dashed box after the workflow's target;
- a table of the commands: the Makefile's recipe line and the rules it runs;
- a table of the rules: for each command, how many jobs each runs, what they write, and the
  rule's docstring (``snakemake --list-rules``).

Only the example values of the variables a command needs (``EXAMPLES``) are written here.
"""

import colorsys
import io
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

# The values a command is shown (and its graph drawn) with, for the variables it needs that
# have no usable default in the Makefile: any sweep file and figure would do.
EXAMPLES = {"sweep": {"SWEEP": "depth"}, "results": {"PROFILE": "paper", "FIG": "fig8"}}
# How long one Snakemake call may take (it only parses the workflow and plans).
TIMEOUT_S = 120


def makefile_targets(text):
    """The Makefile's targets with their recipes, and its ``NAME ?= value`` defaults.

    Args:
        text: the Makefile's text.

    Returns:
        ({target: [recipe line, ...]}, {variable: default}), recipe lines stripped, with
        continuation lines joined.
    """
    recipes, defaults, target = {}, {}, None
    text = re.sub(r"\\\n\s*", " ", text)
    for line in text.splitlines():
        if line.startswith("\t") and target:
            recipes[target].append(line.strip().lstrip("@-+"))
            continue
        target = None
        default = re.match(r"^([A-Z_]+)\s*\?=\s*(.*)$", line)
        if default:
            defaults[default.group(1)] = default.group(2).strip()
        rule = re.match(r"^([a-z][\w-]*)\s*:(?!=)", line)
        if rule:
            target = rule.group(1)
            recipes[target] = []
    return recipes, defaults


def workflow_commands(makefile_text, examples=EXAMPLES):
    """Each Makefile target that runs Snakemake: its command line and Snakemake config.

    Args:
        makefile_text: the Makefile's text.
        examples: {target: {variable: value}} for the variables a command must be given.

    Returns:
        [{"target", "command" (e.g. "make results PROFILE=paper FIG=fig8"), "recipe" (the
        Makefile's Snakemake line), "config" (["key=value", ...] for ``--config``), "then"
        ([(make target, its first command), ...] the recipe runs after Snakemake)}], in the
        Makefile's order.
    """
    recipes, defaults = makefile_targets(makefile_text)
    commands = []
    for target, lines in recipes.items():
        calls = [i for i, line in enumerate(lines) if line.startswith("$(SNAKEMAKE)")]
        if not calls:
            continue
        given = examples.get(target, {})
        values = {**defaults, **given}
        config = []
        options = lines[calls[0]].split("--config", 1)
        for pair in options[1].split() if len(options) > 1 else []:
            if pair.startswith("-"):
                break
            key, _, value = pair.partition("=")
            value = re.sub(
                r"\$\((\w+)\)", lambda m, known=values: known.get(m.group(1), m.group(0)), value
            )
            if "$(" not in value:  # a value the Makefile computes (threads) is left out
                config.append(f"{key}={value}")
        then = []
        for line in lines[calls[0] + 1 :]:
            called = re.search(r"\$\(MAKE\).*?\s([a-z][\w-]*)(?:\s+\w+=\S*)*\s*$", line)
            if called and recipes.get(called.group(1)):
                first = recipes[called.group(1)][0].split()
                program = [Path(re.sub(r"\$\(\w+\)/?", "", first[0])).name, *first[1:2]]
                then.append((called.group(1), " ".join(program)))
        command = " ".join(["make", target, *(f"{k}={v}" for k, v in given.items())])
        commands.append(
            {
                "target": target,
                "command": command,
                "recipe": lines[calls[0]],
                "config": config,
                "then": then,
            }
        )
    return commands


def parse_dot(text):
    """Snakemake's ``--rulegraph`` output: its boxes and arrows.

    Args:
        text: the dot text.

    Returns:
        ({id: (label lines, (r, g, b))}, [(from id, to id), ...]): an arrow goes from the
        rule whose output the other reads.
    """
    nodes_ = {}
    for key, label, color in re.findall(
        r'^\s*(\d+)\[label = "((?:[^"\\]|\\.)*)", color = "([\d.]+ [\d.]+ [\d.]+)"', text, re.M
    ):
        hue, saturation, value = (float(v) for v in color.split())
        nodes_[key] = (label.split("\\n"), colorsys.hsv_to_rgb(hue, saturation, value))
    edges = re.findall(r"^\s*(\d+)\s*->\s*(\d+)", text, re.M)
    return nodes_, edges


def layers(node_ids, edges):
    """A layered layout: each box one row below the lowest of the boxes it reads from.

    Args:
        node_ids: the boxes, in the order they are placed within a row.
        edges: [(from, to)], an arrow from a box to itself ignored.

    Returns:
        {id: row}, row 0 for the boxes that read from no other.
    """
    row = {n: 0 for n in node_ids}
    for _ in node_ids:  # longest path; the rule graph is acyclic but for self-arrows
        for a, b in edges:
            if a != b and row[b] < row[a] + 1:
                row[b] = row[a] + 1
    return row


def snakemake(repository, config, mode, scratch):
    """Start Snakemake on the repository's workflow, in a scratch folder (nothing is run).

    Args:
        repository: the repository's root.
        config: ["key=value", ...] for ``--config``.
        mode: "--rulegraph", "--dry-run" (of every job, done or not) or "--list-rules".
        scratch: an empty folder for Snakemake's working directory.

    Returns:
        The running ``subprocess.Popen`` (stdout and stderr piped, text).
    """
    # The environment's own Snakemake, beside the Python that runs Sphinx (as the Snakefile
    # finds papermill), else the one on the PATH.
    binary = Path(sys.executable).parent / "snakemake"
    binary = str(binary) if binary.exists() else shutil.which("snakemake")
    if binary is None:
        raise ExtensionError(
            f"dfp-rule-graph: no snakemake beside {sys.executable} or on the PATH; "
            "`make install` installs it"
        )
    Path(scratch).mkdir(parents=True, exist_ok=True)
    command = [binary, "-s", str(Path(repository) / "workflow" / "Snakefile")]
    command += ["--directory", scratch, mode, *(["--forceall"] if mode == "--dry-run" else [])]
    command += ["--config", *config] if config else []
    return subprocess.Popen(
        command, cwd=repository, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(process, what):
    out, err = process.communicate(timeout=TIMEOUT_S)
    if process.returncode != 0:
        raise ExtensionError(f"dfp-rule-graph: snakemake {what} failed:\n{err[-3000:]}")
    return out


def dry_run_jobs(text, repository):
    """The jobs of a dry run (``snakemake -n``): for each rule, what each job writes.

    Args:
        text: the dry run's output.
        repository: the repository's root: its paths are shown relative to it.

    Returns:
        {rule: [({wildcard: value}, [output path, ...]), ...]} in the dry run's order.
    """
    prefix = str(Path(repository).resolve()) + "/"
    jobs = {}
    for rule, body in re.findall(r"^(?:local)?rule (\w+):\n((?:[ \t]+\S.*\n?)*)", text, re.M):
        fields = dict(re.findall(r"^\s+(\w+): (.*)$", body, re.M))
        wildcards = dict(
            pair.split("=", 1) for pair in fields.get("wildcards", "").split(", ") if "=" in pair
        )
        outputs = [o.removeprefix(prefix) for o in fields.get("output", "").split(", ") if o]
        jobs.setdefault(rule, []).append((wildcards, outputs))
    return jobs


def read_workflow(repository, commands):
    """Each command's rule graph and jobs, and the rules' docstrings, from Snakemake.

    Args:
        repository: the repository's root.
        commands: ``workflow_commands``'s list.

    Returns:
        (graphs, jobs, docstrings): graphs {target: (nodes, edges)} (``parse_dot``), jobs
        {target: ``dry_run_jobs``}, docstrings {rule: text} for the rules that have one.
    """
    config = sorted({pair for c in commands for pair in c["config"] if pair != "profile=book"})
    calls = [(c["target"], c["config"], m) for c in commands for m in ("--rulegraph", "--dry-run")]
    # Every rule is defined when a sweep and results are asked for: their docstrings.
    calls.append(("all", config, "--list-rules"))
    # All at once, each in a folder of its own (Snakemake keeps its state in its folder).
    with tempfile.TemporaryDirectory(prefix="dfp-rulegraph-") as scratch:
        running = {
            (target, mode): snakemake(repository, pairs, mode, Path(scratch) / str(i))
            for i, (target, pairs, mode) in enumerate(calls)
        }
        outputs = {key: _finish(p, f"{key[1]} for make {key[0]}") for key, p in running.items()}
    graphs = {c["target"]: parse_dot(outputs[c["target"], "--rulegraph"]) for c in commands}
    jobs = {
        c["target"]: dry_run_jobs(outputs[c["target"], "--dry-run"], repository) for c in commands
    }
    docstrings = {}
    for name, text in re.findall(
        r"^(\w+)(?: \((.*?)\))?$", outputs["all", "--list-rules"], re.M | re.S
    ):
        if text:
            docstrings[name] = " ".join(text.split())
    return graphs, jobs, docstrings


def draw(commands, graphs):
    """The figure: one panel per command, its rule graph in layers, as SVG text.

    Args:
        commands: ``workflow_commands``'s list.
        graphs: {target: (nodes, edges)}.

    Returns:
        The SVG (text kept as text), without its XML header, scaled to its container.
    """
    # A Figure of its own, not pyplot's: the Sphinx process's backend stays as it is.
    from matplotlib import rc_context  # deferred: the book's other pages need no figures
    from matplotlib.figure import Figure  # deferred: as above
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # deferred: as above

    box_w, box_h, gap_x, gap_y = 2.4, 0.55, 0.4, 0.6
    panels = []
    for c in commands:
        nodes_, edges = graphs[c["target"]]
        extra = {}
        # The workflow's target: the rule whose output no other rule reads.
        target = next((n for n in nodes_ if not any(a == n and b != n for a, b in edges)), None)
        for i, (make_target, program) in enumerate(c["then"]):
            extra[f"then{i}"] = ([program, f"(make {make_target})"], (0.5, 0.5, 0.5))
            edges = [*edges, (target, f"then{i}")]
            target = f"then{i}"
        boxes = {**nodes_, **extra}
        row = layers(list(boxes), edges)
        rows = {}
        for n in boxes:
            rows.setdefault(row[n], []).append(n)
        # Wide enough for its boxes and for its command, in 11 pt monospace (0.6 em a letter).
        width = max(max(len(r) for r in rows.values()) * (box_w + gap_x), len(c["command"]) * 0.17)
        panels.append((c, boxes, edges, row, rows, width))
    total_w = sum(p[-1] for p in panels) + gap_x * (len(panels) - 1)
    depth = max(max(p[3].values()) for p in panels) + 1
    total_h = depth * (box_h + gap_y) - gap_y + 0.8
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "dfp", "font.size": 11}):
        fig = Figure(figsize=(total_w * 0.6, total_h * 0.6))
        ax = fig.add_axes([0, 0, 1, 1])
        ax.set_xlim(0, total_w)
        ax.set_ylim(-total_h, 0)
        ax.axis("off")
        left = 0.0
        for c, boxes, edges, row, rows, width in panels:
            ax.text(
                left + width / 2,
                -0.25,
                c["command"],
                ha="center",
                va="center",
                family="monospace",
                weight="bold",
            )
            where = {}
            for r, members in rows.items():
                span = len(members) * (box_w + gap_x) - gap_x
                for i, n in enumerate(members):
                    x = left + (width - span) / 2 + i * (box_w + gap_x) + box_w / 2
                    y = -0.7 - r * (box_h + gap_y) - box_h / 2
                    where[n] = (x, y)
            for a, b in edges:
                (xa, ya), (xb, yb) = where[a], where[b]
                if a == b:  # a job of the rule waits for another of the same rule
                    start, end, style = (
                        (xa + box_w / 2, ya + 0.12),
                        (xa + box_w / 2, ya - 0.12),
                        "arc3,rad=-2.2",
                    )
                elif row[b] - row[a] > 1:  # past the boxes between, round their left side
                    start, end = (
                        (xa - 0.4 * box_w, ya - box_h / 2),
                        (xb - 0.4 * box_w, yb + box_h / 2),
                    )
                    style = "arc3,rad=0.4"
                else:
                    start, end, style = (xa, ya - box_h / 2), (xb, yb + box_h / 2), "arc3,rad=0"
                ax.add_patch(
                    FancyArrowPatch(
                        start,
                        end,
                        connectionstyle=style,
                        arrowstyle="-|>",
                        mutation_scale=12,
                        color="0.45",
                        lw=1.3,
                    )
                )
            for n, (label, color) in boxes.items():
                x, y = where[n]
                dashed = n.startswith("then")
                ax.add_patch(
                    FancyBboxPatch(
                        (x - box_w / 2, y - box_h / 2),
                        box_w,
                        box_h,
                        boxstyle="round,pad=0,rounding_size=0.12",
                        fc="white",
                        ec=color,
                        lw=1.8,
                        ls="--" if dashed else "-",
                    )
                )
                ax.text(
                    x,
                    y,
                    "\n".join(label),
                    ha="center",
                    va="center",
                    family="monospace",
                    fontsize=8 if len(label) > 1 else 11,
                )
            left += width + gap_x
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
        r'<svg\1 class="dfp-rule-graph" role="img"',
        svg,
        count=1,
    )


def _job_cell(jobs):
    """How many jobs one rule has for one command, and the wildcard values that vary.

    Args:
        jobs: the rule's jobs (``dry_run_jobs``'s list for it).

    Returns:
        e.g. "3: activation_loss, delta, depth", or "21, one per point".
    """
    varying = [
        name
        for name in jobs[0][0]
        if len({wildcards.get(name) for wildcards, _ in jobs}) > 1 or len(jobs) == 1
    ]
    if not varying:
        return str(len(jobs))
    values = sorted(", ".join(w[name] for name in varying) for w, _ in jobs)
    if len(values) > 12:
        return f"{len(jobs)}, one per {' and '.join(varying)}"
    return f"{len(jobs)}: {', '.join(values)}"


def _writes(jobs):
    """What one rule's jobs write, with the wildcards' values put back as {name}.

    Args:
        jobs: the rule's jobs (``dry_run_jobs``'s list for it).

    Returns:
        Markdown: the paths in code, or words for a target that writes nothing.
    """
    patterns = []
    for wildcards, outputs in jobs:
        for output in outputs:
            for name, value in sorted(wildcards.items(), key=lambda kv: -len(kv[1])):
                head, found, tail = output.rpartition(value)  # the last: a file name's
                output = head + "{" + name + "}" + tail if found else output
            if output not in patterns:
                patterns.append(output)
    return ", ".join(f"`{p}`" for p in patterns) or "nothing (the target: its inputs)"


def tables(commands, graphs, jobs, docstrings):
    """The commands' and the rules' tables.

    Args:
        commands: ``workflow_commands``'s list.
        graphs, jobs, docstrings: ``read_workflow``'s.

    Returns:
        MyST Markdown lines: a table of the commands (the Makefile's Snakemake call, the
        rules), then one of each command's rules (jobs, what they write, the docstring).
    """
    lines = ["| command | its Snakemake call in the Makefile | rules it runs |", "|---|---|---|"]
    for c in commands:
        rules = [label[0] for label, _ in graphs[c["target"]][0].values()]
        after = "".join(f", then `make {t}` (`{p}`)" for t, p in c["then"])
        lines.append(
            f"| `{c['command']}` | `{c['recipe']}` | "
            + ", ".join(f"`{r}`" for r in rules)
            + after
            + " |"
        )
    lines += ["", "| command | rule | jobs | writes | its docstring |", "|---|---|---|---|---|"]
    for c in commands:
        for row, (rule, rule_jobs) in enumerate(jobs[c["target"]].items()):
            command = f"`{c['command']}`" if row == 0 else ""
            docstring = docstrings.get(rule, "").replace("<", "&lt;").replace(">", "&gt;")
            lines.append(
                f"| {command} | `{rule}` | {_job_cell(rule_jobs)} | {_writes(rule_jobs)} "
                f"| {docstring} |"
            )
    return lines


class RuleGraph(SphinxDirective):
    """``dfp-rule-graph``: the workflow's rule graphs and tables, read at build time."""

    has_content = False

    def run(self):
        repository = (Path(self.env.srcdir) / "dfp").resolve().parent
        makefile = repository / "Makefile"
        if not makefile.exists():
            raise self.error(f"dfp-rule-graph: no Makefile in {repository}")
        commands = workflow_commands(makefile.read_text())
        if not commands:
            raise self.error("dfp-rule-graph: no Makefile target runs $(SNAKEMAKE)")
        for name in ("Makefile", "workflow/Snakefile"):
            self.env.note_dependency(str(repository / name))
        graphs, jobs, docstrings = read_workflow(repository, commands)
        figure = nodes.container(classes=["dfp-rule-graph-figure"])
        figure += nodes.raw("", draw(commands, graphs), format="html")
        body = nodes.container()
        self.state.nested_parse(
            StringList(tables(commands, graphs, jobs, docstrings)), self.content_offset, body
        )
        return [figure, *body.children]


def setup(app):
    app.add_directive("dfp-rule-graph", RuleGraph)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
