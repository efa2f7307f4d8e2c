"""The stage packages export their names lazily (lazy_loader stubs): every exported name resolves, and a
workflow's rule files, which import only settings, do not load the science stack."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["anomaly", "candidates", "classify", "crossmatch", "skymap", "sources"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_to_its_module_object(package):
    module = importlib.import_module(f"skysift.{package}")
    assert module.__all__, package
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None, f"skysift.{package}.{name}"
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="not_a_name"):
        module.not_a_name  # noqa: B018


def test_the_rule_files_imports_do_not_load_scikit_learn_or_coniferest():
    code = (
        "import sys\n"
        "from skysift.anomaly import FitSettings, settings_section\n"
        "from skysift.candidates.settings import plot_section\n"
        "from skysift.classify.settings import classifier_section\n"
        "from skysift.crossmatch import resolve_catalogs\n"
        "from skysift.sources import SourceSettings, get_source, resolve_fields\n"
        "print(sorted(m for m in ('sklearn', 'coniferest', 'skops', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
