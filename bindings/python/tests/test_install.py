# SPDX-License-Identifier: MIT
"""The package as pip installs it (make check-python-install): a venv with
--system-site-packages (numpy from Debian), pip install
--no-build-isolation --no-index, then imports that find libsgad through
SGAD_LIBRARY and through pkg-config, and the ImportError naming the three
ways when nothing finds it; and pip install --user into a private
PYTHONUSERBASE."""
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
TREE = os.path.normpath(os.path.join(PKG, "..", ".."))
LIB = os.environ.get("SGAD_LIBRARY") or os.path.join(TREE, "lib", "libsgad.so.1")


def header_version():
    text = open(os.path.join(TREE, "include", "sgad", "version.h")).read()
    parts = [re.search(rf"#define SGAD_VERSION_{k} (\d+)", text).group(1)
             for k in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def run(cmd, env=None, cwd=None):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
                          check=False)


def test_package_version_is_the_library_version():
    sys.path.insert(0, PKG)
    import sgad
    assert sgad.__version__ == header_version()
    assert sgad.library_version() == header_version()
    text = open(os.path.join(PKG, "pyproject.toml")).read()
    assert 'version = {attr = "sgad.__version__"}' in text


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    if run([sys.executable, "-m", "pip", "--version"]).returncode != 0:
        pytest.skip("pip is not available for this Python (Debian: apt-get install python3-pip)")
    made = run([sys.executable, "-m", "venv", "--system-site-packages", str(tmp / "venv")])
    if made.returncode != 0:
        pytest.skip("python3 -m venv failed (Debian: apt-get install python3-venv): "
                    + made.stderr.strip()[-300:])
    # Build from a copy: setuptools writes build/ and sgad.egg-info next to
    # the sources, which must stay clean.
    src = tmp / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                            "*.egg-info"))
    py = str(tmp / "venv" / "bin" / "python")
    got = run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index", str(src)])
    assert got.returncode == 0, got.stdout + got.stderr
    return tmp, py


def probe(venv, **env_changes):
    tmp, py = venv
    env = {k: v for k, v in os.environ.items()
           if k not in ("SGAD_LIBRARY", "PYTHONPATH", "PKG_CONFIG_PATH")}
    env.update(env_changes)
    code = "import sgad; print(sgad.__file__); print(sgad.library_source); print(sgad.library_path)"
    return run([py, "-c", code], env=env, cwd=str(tmp))  # cwd: not the tree


def test_installed_package_uses_SGAD_LIBRARY(venv):
    got = probe(venv, SGAD_LIBRARY=LIB)
    assert got.returncode == 0, got.stderr
    where, source, path = got.stdout.split("\n")[:3]
    assert "site-packages" in where and where.startswith(str(venv[0]))
    assert (source, path) == ("SGAD_LIBRARY", LIB)


def test_installed_package_uses_pkg_config(venv):
    if shutil.which("pkg-config") is None:
        pytest.skip("pkg-config is not installed")
    tmp = venv[0]
    (tmp / "pc").mkdir(exist_ok=True)
    (tmp / "pc" / "sgad.pc").write_text(
        f"libdir={os.path.dirname(LIB)}\n\nName: sgad\nDescription: test\n"
        f"Version: {header_version()}\nLibs: -L${{libdir}} -lsgad\n")
    got = probe(venv, PKG_CONFIG_PATH=str(tmp / "pc"))
    assert got.returncode == 0, got.stderr
    source, path = got.stdout.split("\n")[1:3]
    assert source == "pkg-config" and os.path.samefile(path, LIB)


def test_installed_package_says_how_to_find_the_library(venv):
    got = probe(venv, SGAD_LIBRARY=str(venv[0] / "missing" / "libsgad.so.1"))
    assert got.returncode != 0
    assert "ImportError: libsgad not found" in got.stderr
    for way in ("SGAD_LIBRARY", "pkg-config", "system loader"):
        assert way in got.stderr


def test_user_install(tmp_path):
    """pip install --user into a private PYTHONUSERBASE (Debian 12 marks its
    Python externally managed, hence --break-system-packages, which only
    concerns the user site here)."""
    if run([sys.executable, "-m", "pip", "--version"]).returncode != 0:
        pytest.skip("pip is not available for this Python (Debian: apt-get install python3-pip)")
    src = tmp_path / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                            "*.egg-info"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_USER")}
    env["PYTHONUSERBASE"] = str(tmp_path / "user")
    cmd = [sys.executable, "-m", "pip", "install", "--user", "--no-build-isolation",
           "--no-index", "--no-warn-script-location", str(src)]
    got = run(cmd + ["--break-system-packages"], env=env)
    if "no such option: --break-system-packages" in got.stderr:
        got = run(cmd, env=env)  # a pip before PEP 668
    assert got.returncode == 0, got.stdout + got.stderr
    env["SGAD_LIBRARY"] = LIB
    got = run([sys.executable, "-c", "import sgad; print(sgad.__file__, sgad.library_source)"],
              env=env, cwd=str(tmp_path))
    assert got.returncode == 0, got.stderr
    where, source = got.stdout.split()
    assert where.startswith(str(tmp_path / "user")) and source == "SGAD_LIBRARY"
