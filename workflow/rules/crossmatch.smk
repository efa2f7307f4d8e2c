# Stage 3: cross-match every batch's objects with the configured catalogs.
# Backends (crossmatch.catalogs.<name>.backend): local files; tns = the TNS bulk CSV, downloaded once by
# the local rule download_tns_catalog; xmatch = CDS XMatch, queried per batch by the local rule
# query_xmatch. Network steps are local rules (they run on the submit host, never on offline compute
# nodes); the library's file lock keeps CDS requests one at a time even when Snakemake runs several
# local jobs at once. The crossmatch rule itself never touches the network.

XMATCH_CATALOGS = [name for name, spec in CATALOGS.items() if spec["backend"] == "xmatch"] or ["none"]
TNS_CATALOGS = [name for name, spec in CATALOGS.items() if spec["backend"] == "tns"] or ["none"]
ALL_MATCHES = {"all": "results/crossmatch/all/{batch}.parquet"} if config["crossmatch"]["all_matches"] else {}


rule download_tns_catalog:
    output:
        TNS_CATALOG_PATH.replace("{name}", "{tns_catalog}"),
    localrule: True
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/download_tns_catalog/{tns_catalog}.log",
    wildcard_constraints:
        tns_catalog="|".join(TNS_CATALOGS),
    params:
        # what is fetched; the key, bot, cache age, HTTP settings and cache_dir are read from the config
        url=config["crossmatch"]["tns"]["url"],
    script:
        "../scripts/download_tns_catalog.py"


rule query_xmatch:
    input:
        objects="results/clean/{batch}.objects.parquet",
    output:
        XMATCH_RESULT_PATH.replace("{name}", "{xmatch_catalog}"),
    localrule: True
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/query_xmatch/{xmatch_catalog}/{batch}.log",
    wildcard_constraints:
        xmatch_catalog="|".join(XMATCH_CATALOGS),
    params:
        # what is asked; chunking, HTTP settings and cache_dir are read from the config
        catalog=lambda wc: CATALOGS[wc.xmatch_catalog],
        url=config["crossmatch"]["xmatch"]["url"],
        associate_radius_arcsec=config["crossmatch"]["associate_radius_arcsec"],
    script:
        "../scripts/query_xmatch.py"


rule crossmatch:
    input:
        unpack(catalog_files),
        objects="results/clean/{batch}.objects.parquet",
    output:
        xmatch="results/crossmatch/{batch}.parquet",
        **ALL_MATCHES,
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/crossmatch/{batch}.log",
    benchmark:
        "results/benchmarks/crossmatch/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        catalogs=CATALOGS,
        taxonomy=config["crossmatch"]["taxonomy"],
        associate_radius_arcsec=config["crossmatch"]["associate_radius_arcsec"],
    script:
        "../scripts/crossmatch.py"
