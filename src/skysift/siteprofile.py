"""A site's Slurm profile: skysift's profiles/slurm filled in with the site's account, partition and QOS.

``snakemake --profile slurm`` looks for a directory ``slurm`` in the current directory, then in the
user's Snakemake configuration directory (``$XDG_CONFIG_HOME/snakemake``, by default
``~/.config/snakemake``), then in the system one (``/etc/xdg/snakemake``). :func:`install_profile`
writes the packaged profile there with the site settings in its ``default-resources`` -- the one
place the Slurm jobs and the Dask SLURMCluster workers read them from. :func:`check_site` asks
Slurm (``sinfo``, ``sacctmgr``) whether those settings can be used, so a wrong account is named
before the first submission instead of in every job's error; where the cluster has no accounting
database the account is not checked.
"""

from __future__ import annotations

import ast
import getpass
import re
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from skysift.io import atomic_path

__all__ = [
    "PROFILES",
    "ProfileError",
    "SiteCheck",
    "SiteSettings",
    "check_site",
    "find_profile",
    "install_profile",
    "render_profile",
    "site_from_profile",
    "snakemake_config_dir",
    "template_text",
]

#: Profiles shipped with the package (src/skysift/profiles/<name>/config.yaml, a copy of profiles/<name>).
PROFILES = ("slurm",)
#: The default-resources keys that hold the site settings (the names the executor plugin reads).
SITE_RESOURCES = {"account": "slurm_account", "partition": "slurm_partition", "qos": "qos"}
#: The placeholder partition of the long rules in the template's set-resources.
LONG_PLACEHOLDER = "long"
#: Names Slurm gives accounts, partitions and QOS (sacctmgr stores them in lower case).
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+@-]*")
_PROFILE_FILE = re.compile(r"(profile|config)(\.v\d+\+)?\.yaml")
_TIMEOUT_S = 30


class ProfileError(ValueError):
    """A profile cannot be installed or read; the message names the file or option and what to do."""


@dataclass(frozen=True)
class SiteSettings:
    """Where a site's jobs go: Slurm account, default partition, QOS, and the partition of the long rules.

    ``accounting=False`` is a cluster without slurmdbd: no account is sent (the executor plugin
    would otherwise try to guess and validate one) and job status comes from ``squeue``.
    """

    account: str | None = None
    partition: str | None = None
    qos: str | None = None
    long_partition: str | None = None
    accounting: bool = True

    def __post_init__(self) -> None:
        for option, value in (
            ("--account", self.account),
            ("--partition", self.partition),
            ("--qos", self.qos),
            ("--long-partition", self.long_partition),
        ):
            if value is not None and not _NAME.fullmatch(value):
                raise ProfileError(
                    f"{option} {value!r} is not a Slurm name (letters, digits, _ . + @ -): "
                    "give it as `sacctmgr show assoc user=$USER` or `sinfo` prints it"
                )
        if self.account and not self.accounting:
            raise ProfileError("--account and --no-accounting exclude each other: a site without "
                               "accounting has no accounts")  # fmt: skip

    @property
    def partition_of_long_rules(self) -> str | None:
        """The partition of the rules routed to ``long`` in the template (default: the default partition)."""
        return self.long_partition or self.partition


@dataclass
class SiteCheck:
    """What Slurm said about a site's settings: problems stop an install, notes are for information."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing in the settings is known to be wrong."""
        return not self.problems


def snakemake_config_dir() -> Path:
    """The user's Snakemake configuration directory, where ``--profile NAME`` finds ``NAME/``.

    The same call Snakemake makes (platformdirs ``AppDirs("snakemake", "snakemake")``), so it
    honours ``$XDG_CONFIG_HOME`` exactly as Snakemake does.
    """
    from platformdirs import user_config_dir

    return Path(user_config_dir("snakemake", "snakemake"))


def _site_config_dir() -> Path:
    """The system-wide Snakemake configuration directory (searched after the user's)."""
    from platformdirs import site_config_dir

    return Path(site_config_dir("snakemake", "snakemake"))


def template_text(name: str = "slurm") -> str:
    """The packaged profile ``name`` (a copy of the checkout's profiles/<name>/config.yaml)."""
    if name not in PROFILES:
        raise ProfileError(f"no packaged profile {name!r}; skysift ships: {', '.join(PROFILES)}")
    return (resources.files("skysift") / "profiles" / name / "config.yaml").read_text()


def _literal(value: str) -> str:
    """A resource value as YAML holding a Python string literal: Snakemake evaluates resource values."""
    return '"' + repr(value) + '"'


def render_profile(template: str, site: SiteSettings, name: str = "slurm") -> str:
    """The template's text with the site settings written into it (its comments kept).

    The settings go at the top of ``default-resources``; every ``slurm_partition: long`` of
    ``set-resources`` becomes the long rules' partition; without accounting the status command
    becomes ``squeue`` and ``slurm-no-account`` is set. The result is parsed back and compared
    with the settings, so a template this function no longer understands is an error, not a
    profile that silently lacks the account.
    """
    lines = template.splitlines()
    try:
        start = lines.index("default-resources:")
    except ValueError:
        raise ProfileError(f"profile template {name!r} has no top-level 'default-resources:' line") from None
    end = start + 1
    while end < len(lines) and (not lines[end] or lines[end][0] in " #"):
        end += 1
    site_keys = tuple(SITE_RESOURCES.values())
    block = [ln for ln in lines[start + 1 : end] if ln.strip().split(":")[0] not in site_keys]
    values = {"account": site.account, "partition": site.partition, "qos": site.qos}
    ours = [f"  {SITE_RESOURCES[k]}: {_literal(v)}" for k, v in values.items() if v]
    lines[start + 1 : end] = ours + block

    long_rule = re.compile(rf"^(\s+slurm_partition:\s*){LONG_PLACEHOLDER}(\s*(#.*)?)$")
    long_partition = site.partition_of_long_rules
    if long_partition:
        lines = [long_rule.sub(lambda m: m[1] + _literal(long_partition) + m[2], ln) for ln in lines]
    if not site.accounting:
        lines = [
            "slurm-status-command: squeue\nslurm-no-account: true"
            if ln.startswith("slurm-status-command:")
            else ln
            for ln in lines
        ]
    settings = ", ".join(
        f"{k} {v}" for k, v in {**values, "long rules' partition": long_partition}.items() if v
    )
    header = [
        f"# Written by `skysift profile install {name}` from skysift's profiles/{name}/config.yaml",
        f"# ({settings or 'cluster defaults'}{'' if site.accounting else ', no accounting'}).",
        "# Reinstall with --force to change the settings; `skysift profile check` asks Slurm about them.",
    ]
    text = "\n".join(header + lines) + "\n"
    _verify(text, site, name)
    return text


def _verify(text: str, site: SiteSettings, name: str) -> None:
    """Raise if the rendered profile does not carry exactly the site settings."""
    profile = yaml.safe_load(text)
    got = site_from_profile_dict(profile)
    want = (site.account, site.partition, site.qos)
    partitions = {
        _evaluated(res["slurm_partition"])
        for res in (profile.get("set-resources") or {}).values()
        if isinstance(res, dict) and "slurm_partition" in res
    }
    long_ok = not site.partition_of_long_rules or partitions <= {site.partition_of_long_rules}
    status_ok = site.accounting or profile.get("slurm-status-command") == "squeue"
    if (got.account, got.partition, got.qos) != want or not long_ok or not status_ok:
        raise ProfileError(
            f"the packaged profile template {name!r} no longer has the layout skysift profile install "
            "fills in (default-resources, `slurm_partition: long`, slurm-status-command): fix "
            "siteprofile.render_profile together with the template"
        )


def _evaluated(value: Any) -> Any:
    """A resource value as Snakemake sees it for a plain literal (``"'myproj'"`` -> ``myproj``)."""
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def site_from_profile_dict(profile: dict[str, Any]) -> SiteSettings:
    """The site settings in a loaded profile's default-resources (unset ones are None)."""
    defaults = profile.get("default-resources") or {}
    if isinstance(defaults, list):  # the command-line form: ["slurm_account=x", ...]
        defaults = dict(item.split("=", 1) for item in defaults if "=" in item)
    values = {key: _evaluated(defaults.get(res)) for key, res in SITE_RESOURCES.items()}
    values = {key: None if v is None else str(v) for key, v in values.items()}
    accounting = not profile.get("slurm-no-account", False)
    return SiteSettings(**values, accounting=accounting)


def site_from_profile(path: Path) -> SiteSettings:
    """The site settings of the profile file ``path`` (a config.yaml or profile.yaml)."""
    try:
        profile = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ProfileError(f"cannot read the profile {path}: {err}") from err
    if not isinstance(profile, dict):
        raise ProfileError(f"{path} is not a Snakemake profile (a YAML mapping of options)")
    try:
        return site_from_profile_dict(profile)
    except ProfileError as err:
        raise ProfileError(f"{path}: {err}") from err


def _profile_files(directory: Path) -> list[Path]:
    """The files Snakemake would read as the profile in ``directory`` (profile.yaml, config.yaml, ...)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _PROFILE_FILE.fullmatch(p.name))


def find_profile(profile: str) -> Path:
    """The profile file ``snakemake --profile PROFILE`` reads: a path, or a name in the search directories."""
    path = Path(profile)
    if path.is_file():
        return path
    candidates = [path] if path.exists() else [Path.cwd() / profile, snakemake_config_dir() / profile,
                                                _site_config_dir() / profile]  # fmt: skip
    for directory in candidates:
        files = _profile_files(directory)
        if files:
            return files[-1]  # profile.yaml if both exist: the name Snakemake documents
    searched = ", ".join(str(c) for c in candidates)
    raise ProfileError(
        f"no Snakemake profile {profile!r} (looked for config.yaml/profile.yaml in {searched}): "
        f"install one with `skysift profile install slurm --account ... --partition ...`"
    )


def install_profile(
    site: SiteSettings, name: str = "slurm", config_dir: Path | None = None, force: bool = False
) -> Path:
    """Write the packaged profile ``name`` with the site settings to ``config_dir/name/config.yaml``.

    ``config_dir`` defaults to :func:`snakemake_config_dir`, so ``snakemake --profile NAME`` finds
    it from any directory. An existing profile is kept unless ``force``; returns the written file.
    """
    text = render_profile(template_text(name), site, name)
    directory = Path(config_dir if config_dir is not None else snakemake_config_dir()) / name
    target = directory / "config.yaml"
    existing = _profile_files(directory)
    others = [p for p in existing if p != target]
    if others:
        raise ProfileError(
            f"{others[0]} exists and Snakemake may read it instead of config.yaml: move it away first"
        )
    if target.exists() and not force:
        raise ProfileError(f"{target} exists: keep it, or replace it with --force")
    with atomic_path(target) as tmp:
        tmp.write_text(text)
        tmp.chmod(0o644)
    return target


def _run(cmd: list[str]) -> str | None:
    """stdout of a Slurm command, or None when it is missing, fails or does not answer."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _named_partitions(site: SiteSettings) -> list[tuple[str, str]]:
    """The partitions a site names (default, long rules'), each with how a problem names it."""
    named = (("slurm_partition", site.partition), ("long rules' slurm_partition", site.long_partition))
    return [(key, value) for key, value in named if value]


def check_site(site: SiteSettings, source: str = "the settings", user: str | None = None) -> SiteCheck:
    """Ask Slurm whether ``site`` can be used by ``user``: partitions (sinfo), account and QOS (sacctmgr).

    ``source`` names where the settings come from (a profile file, the command line) in the
    messages. Without ``sinfo`` or without an accounting database the corresponding checks are
    skipped with a note, never failed.
    """
    user = user or getpass.getuser()
    check = SiteCheck()
    sinfo = _run(["sinfo", "-h", "-o", "%R"])
    if sinfo is None:
        check.notes.append("sinfo did not answer (not on a Slurm login node?): partitions not checked")
    else:
        known = sorted(set(sinfo.split()))
        for key, value in _named_partitions(site):
            if value not in known:
                check.problems.append(
                    f"{key} {value!r} ({source}): no such partition on this cluster "
                    f"(sinfo lists: {', '.join(known)}); fix the partition name"
                )
    if not site.accounting:
        check.notes.append("no accounting: no account is sent, job status comes from squeue")
        return check
    assoc = _run(["sacctmgr", "-n", "-P", "show", "assoc", f"user={user}", "format=account,partition,qos"])
    if assoc is None:
        check.notes.append(
            "sacctmgr did not answer (no Slurm accounting database here?): account and QOS not checked; "
            "without accounting install with --no-accounting"
        )
        return check
    rows = [ln.split("|") for ln in assoc.splitlines() if ln.strip()]
    accounts = sorted({r[0].lower() for r in rows})
    if not site.account:
        default = _run(["sacctmgr", "-n", "-P", "show", "user", user, "format=defaultaccount"])
        default = (default or "").strip() or None
        if default:
            check.notes.append(
                f"no slurm_account ({source}): jobs are charged to your default account {default!r}"
            )
        else:
            check.problems.append(
                f"no slurm_account ({source}) and user {user!r} has no default account: give --account "
                f"(yours: {', '.join(accounts) or 'none, ask your site admins for an association'})"
            )
        return check
    mine = [r for r in rows if r[0].lower() == site.account.lower()]
    if not mine:
        check.problems.append(
            f"slurm_account {site.account!r} ({source}) is not one of the Slurm accounts of user {user!r} "
            f"({', '.join(accounts) or 'none'}): use one of those, or ask your site's admins for an association"
        )
        return check
    partitions = {r[1] for r in mine}
    if "" not in partitions:  # every association of the account is limited to some partitions
        for key, value in _named_partitions(site):
            if value not in partitions:
                check.problems.append(
                    f"{key} {value!r} ({source}): account {site.account!r} may only use "
                    f"{', '.join(sorted(partitions))}"
                )
    qos = {q for r in mine for q in r[2].split(",") if q}
    if site.qos and site.qos.lower() not in {q.lower() for q in qos}:
        check.problems.append(
            f"qos {site.qos!r} ({source}) is not allowed for account {site.account!r} "
            f"(allowed: {', '.join(sorted(qos)) or 'none listed'}); fix the QOS or leave it unset"
        )
    return check
