# Stage 1: fetch. A batch is fetched when its files are present and verified; its manifest
# lists them. Each source (skysift.sources.registry) says how its release is prepared:
# demo: simulate_survey writes the release with its truth table and catalogs; irsa_bulk:
# fetch_checksums caches the release's checksum.md5, then each batch downloads its field's files;
# irsa_api/snad: query_lightcurves runs every query once and writes the answers as a DR tree;
# hats: query_hats reads the selection from a HATS catalog (lsdb) into a DR tree; table:
# convert_table turns a long-format CSV/parquet file into one; local: the mirror exists. Each batch
# then verifies (or downloads) its field. Online steps are local rules (compute nodes are often offline).
# Params hold only the config keys that change a rule's outputs (the source's release_keys and
# batch_keys); HTTP settings, fetch.batch_size and fetch.verify are read by the jobs from the config,
# so changing them reruns nothing.


rule simulate_survey:
    output:
        release=directory(f"{DEMO_ROOT}/{DR}"),
        truth=f"{DEMO_ROOT}/truth.parquet",
        catalogs=[f"{DEMO_ROOT}/catalogs/{name}.parquet" for name in DEMO_CATALOG_COLUMNS],
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/simulate_survey.log",
    benchmark:
        "results/benchmarks/simulate_survey.tsv"
    params:
        settings=release_params(config, "demo"),
        release_root=lambda wildcards, output: output.release,
    localrule: True
    script:
        "../scripts/prepare_release.py"


if SOURCE.preparation in (Preparation.INDEX, Preparation.CONVERT):

    # One rule for every source that prepares its release: named as the source says (fetch_checksums,
    # query_lightcurves, query_hats, convert_table, ...), it writes the release's checksum.md5.
    rule:
        name:
            SOURCE.prepare_rule
        input:
            SOURCE.release_inputs(SOURCE_SETTINGS),
        output:
            checksum=f"{RELEASE_ROOT}/checksum.md5",
        conda:
            "../../envs/skysift.yaml"
        log:
            f"logs/{SOURCE.prepare_rule}.log",
        resources:
            mem_mb=lambda wc, attempt: 4000 * attempt,
        params:
            settings=release_params(config),
            release_root=lambda wildcards, output: Path(output.checksum).parent,
        localrule: SOURCE.online
        script:
            "../scripts/prepare_release.py"


rule fetch_lightcurves:
    input:
        release_input,
    output:
        "results/fetch/{batch}.tsv",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/fetch_lightcurves/{batch}.log",
    params:
        settings=batch_params(config),
        release_root=RELEASE_ROOT,
        fieldid=field_of,
    localrule: True
    script:
        "../scripts/fetch_lightcurves.py"
