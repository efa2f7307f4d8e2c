"""What the demo survey's catalogs know: per class, the chance SIMBAD, VSX and TNS list a source and the
types they give it (the rule tables that :mod:`skysift.simulate.catalogs` draws from)."""

from __future__ import annotations

__all__ = [
    "Options",
    "SIMBAD_RULES",
    "SIMBAD_EXTRA",
    "VSX_RULES",
    "VSX_PERIODIC",
    "TNS_RULES",
    "TNS_SN",
    "TNS_EXTRA",
    "CATALOG_TYPES",
]

#: Weighted choices: (value, weight) pairs.
Options = list[tuple[str, float]]

#: class -> probability SIMBAD knows a source, otype options (per subclass where it matters).
SIMBAD_RULES: dict[str, tuple[float, dict[str, Options]]] = {
    "constant": (0.0, {"*": [("*", 0.93), ("PM*", 0.04), ("**", 0.03)]}),  # known fraction depends on mag
    "rrlyrae": (0.65, {"*": [("RR*", 0.6), ("V*", 0.3), ("Pu*", 0.1)]}),
    "cepheid": (
        0.7,
        {
            "DCEP": [("cC*", 0.45), ("Ce*", 0.25), ("V*", 0.3)],
            "CW": [("WV*", 0.5), ("Ce*", 0.2), ("V*", 0.3)],
        },
    ),
    "eclipsing_binary": (0.55, {"*": [("EB*", 0.65), ("V*", 0.3), ("SB*", 0.05)]}),
    "delta_scuti": (0.5, {"*": [("dS*", 0.55), ("V*", 0.35), ("Pu*", 0.1)]}),
    "lpv": (
        0.75,
        {"mira": [("Mi*", 0.6), ("LP*", 0.2), ("V*", 0.2)], "*": [("LP*", 0.6), ("V*", 0.3), ("AB*", 0.1)]},
    ),
    "agn": (
        0.85,
        {"QSO": [("QSO", 0.8), ("AGN", 0.1), ("Bla", 0.1)], "Sy1": [("Sy1", 0.5), ("AGN", 0.4), ("G", 0.1)]},
    ),
    "yso": (0.5, {"*": [("Y*O", 0.5), ("TT*", 0.3), ("Or*", 0.1), ("V*", 0.1)]}),
    "snia": (0.2, {"*": [("SN*", 1.0)]}),
    "snii": (0.2, {"*": [("SN*", 1.0)]}),
    "snibc": (0.2, {"*": [("SN*", 1.0)]}),
    "slsn": (0.2, {"*": [("SN*", 1.0)]}),
    "tde": (0.3, {"*": [("ev", 0.7), ("SN*", 0.3)]}),
    "kilonova": (0.0, {"*": [("ev", 1.0)]}),
    "microlensing": (0.3, {"*": [("Lev", 0.4), ("*", 0.6)]}),
    "flare": (0.45, {"*": [("Er*", 0.4), ("LM*", 0.3), ("*", 0.3)]}),
    "cv": (0.7, {"*": [("CV*", 0.8), ("V*", 0.2)]}),
    "artefact": (0.3, {"*": [("*", 1.0)]}),
    "pec_sn": (0.2, {"*": [("SN*", 1.0)]}),
    "fbot": (0.1, {"*": [("ev", 1.0)]}),
}
SIMBAD_EXTRA: Options = [("*", 0.7), ("G", 0.2), ("V*", 0.05), ("QSO", 0.05)]

#: class -> probability VSX knows a source, vtype options.
VSX_RULES: dict[str, tuple[float, dict[str, Options]]] = {
    "constant": (0.002, {"*": [("VAR", 0.5), ("MISC", 0.5)]}),
    "rrlyrae": (0.7, {"RRab": [("RRAB", 1.0)], "RRc": [("RRC", 1.0)]}),
    "cepheid": (0.7, {"DCEP": [("DCEP", 0.9), ("CEP", 0.1)], "CW": [("CWA", 0.5), ("CWB", 0.5)]}),
    "eclipsing_binary": (0.6, {"EA": [("EA", 1.0)], "EW": [("EW", 1.0)], "EB": [("EB", 1.0)]}),
    "delta_scuti": (0.5, {"DSCT": [("DSCT", 0.8), ("DSCTC", 0.2)], "HADS": [("HADS", 1.0)]}),
    "lpv": (
        0.8,
        {
            "mira": [("M", 1.0)],
            "SR": [("SR", 0.4), ("SRA", 0.2), ("SRB", 0.4)],
            "L": [("L", 0.6), ("LB", 0.4)],
        },
    ),
    "agn": (0.15, {"*": [("AGN", 0.6), ("QSO", 0.3), ("BLLAC", 0.1)]}),
    "yso": (
        0.45,
        {
            "dipper": [("YSO", 0.4), ("UXOR", 0.3), ("INST", 0.3)],
            "burster": [("YSO", 0.4), ("EXOR", 0.3), ("INST", 0.3)],
            "irregular": [("YSO", 0.5), ("INST", 0.3), ("TTS", 0.2)],
        },
    ),
    "cv": (0.6, {"UG": [("UG", 0.5), ("UGSS", 0.5)], "UGSU": [("UGSU", 1.0)]}),
    "flare": (0.3, {"*": [("UV", 1.0)]}),
    "artefact": (0.03, {"*": [("VAR", 0.5), ("MISC", 0.5)]}),
}
VSX_PERIODIC = {"rrlyrae", "cepheid", "eclipsing_binary", "delta_scuti", "lpv"}

#: class -> probability TNS has a report, type options ("" = unclassified AT).
TNS_RULES: dict[str, tuple[float, dict[str, Options]]] = {
    "snia": (0.6, {"*": [("SN Ia", 0.9), ("SN Ia-91T-like", 0.07), ("SN Ia-pec", 0.03)]}),
    "snii": (0.5, {"IIP": [("SN II", 0.5), ("SN IIP", 0.5)], "IIL": [("SN II", 0.7), ("SN IIL", 0.3)]}),
    "snibc": (
        0.5,
        {
            "Ib": [("SN Ib", 0.8), ("SN Ib/c", 0.2)],
            "Ic": [("SN Ic", 0.8), ("SN Ib/c", 0.2)],
            "Ic-BL": [("SN Ic-BL", 1.0)],
        },
    ),
    "slsn": (0.6, {"SLSN-I": [("SLSN-I", 1.0)], "SLSN-II": [("SLSN-II", 1.0)]}),
    "tde": (0.6, {"*": [("TDE", 1.0)]}),
    "kilonova": (0.5, {"*": [("", 1.0)]}),  # at most one gets "Kilonova", see _tns_rows
    "cv": (0.25, {"*": [("CV", 0.5), ("", 0.5)]}),
    "flare": (0.08, {"*": [("M dwarf", 0.5), ("", 0.5)]}),
    "microlensing": (0.2, {"*": [("", 0.7), ("Other", 0.3)]}),
    "agn": (0.03, {"*": [("AGN", 0.5), ("", 0.5)]}),
    "lpv": (0.01, {"*": [("Varstar", 1.0)]}),
    # hard variant only: peculiar SNe get the types TNS reporters give them (often a common class)
    "pec_sn": (
        0.5,
        {
            "Iax": [("SN Iax[02cx-like]", 0.6), ("SN Ia", 0.3), ("SN Ia-pec", 0.1)],
            "Ca-rich": [("SN Ib", 0.6), ("SN Ib/c", 0.2), ("SN Ic", 0.2)],
            "Ia-CSM": [("SN IIn", 0.6), ("SN Ia", 0.4)],
        },
    ),
    "fbot": (0.4, {"*": [("", 0.7), ("Other", 0.2), ("SN II", 0.1)]}),
}
TNS_SN = {"snia", "snii", "snibc", "slsn", "tde", "kilonova", "pec_sn", "fbot"}
TNS_EXTRA: Options = [("SN Ia", 0.35), ("SN II", 0.15), ("", 0.4), ("SN Ic", 0.05), ("CV", 0.05)]


def _vocab(table: dict[str, tuple[float, dict[str, Options]]], extra: Options = ()) -> list[str]:
    """Every type string a catalog rule table can emit, sorted."""
    names = {name for _, opts in table.values() for o in opts.values() for name, _ in o}
    return sorted(names | {name for name, _ in extra})


#: Every type string each demo catalog can emit (VSX types may also carry a trailing ':' = uncertain).
CATALOG_TYPES: dict[str, list[str]] = {
    "simbad": _vocab(SIMBAD_RULES, SIMBAD_EXTRA),
    "vsx": _vocab(VSX_RULES),
    "tns": sorted(set(_vocab(TNS_RULES, TNS_EXTRA)) | {"Kilonova"}),
}
