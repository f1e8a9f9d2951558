"""Le paquet : import léger, distribution bien nommée, versions cohérentes."""

import re
import subprocess
import sys
import tomllib

import labkit


def test_import_labkit_pulls_in_no_framework():
    code = (
        "import sys, labkit, labkit.datasets, labkit.diagnosis, labkit.checks, labkit.plotting, labkit.optimize.measure;"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"import labkit a importé : {out}"


def test_distribution_name_is_not_labkit(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] == "ameliorer-dl"
    assert labkit.__version__ == project["version"]


def _names(requirements):
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_environment_pins_exactly_the_pyproject_packages(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    declared = _names(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= _names(extra)
    pinned = {}
    for line in (root / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s*-\s*([A-Za-z0-9_.-]+)==(\S+)\s*$", line)
        if match:
            pinned[match.group(1).lower().replace("_", "-")] = match.group(2)
    assert set(pinned) == declared, (
        f"manquent dans environment.yml : {sorted(declared - set(pinned))} ; "
        f"en trop : {sorted(set(pinned) - declared)}"
    )


def test_torch_extra_has_only_a_lower_bound(root):
    """Dans Colab, installer labkit ne doit ni réinstaller ni mettre à jour torch."""
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for requirement in extras["torch"]:
        assert "==" not in requirement and "<" not in requirement, requirement


def test_ci_runs_the_readme_test_command(root):
    readme = (root / "README.md").read_text()
    commands = re.findall(r"^(make \w+)\s*$", readme, flags=re.M)
    assert commands == ["make course", "make test"], commands
    ci = [line for line in (root / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1].strip() == "make test"
