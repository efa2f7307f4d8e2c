# Stage 7: candidate tables (the ranked anomaly table and the configured lists), plots, the HTML
# page, and the published bundle with provenance. The tables get only the candidates keys that change
# them; max_plots and fold_min_snr are params of the plotting rule alone.
from skysift.candidates.settings import plot_section, table_section


CANDIDATE_LISTS = list(config["candidates"]["lists"])
LIST_TABLES = expand("results/candidates/{name}.ecsv", name=CANDIDATE_LISTS)
ALERT_LOOKUP = config["candidates"]["alert_lookup"]
if ALERT_LOOKUP["enabled"] and config["candidates"]["alert_names"]:
    raise ValueError(
        "config candidates: give either alert_names (a table you have) or alert_lookup.enabled (ask ALeRCE), not both"
    )
if ALERT_LOOKUP["enabled"]:
    ALERT_NAMES = ["results/candidates/alert_names.csv"]
else:
    ALERT_NAMES = [config["candidates"]["alert_names"]] if config["candidates"]["alert_names"] else []
BUNDLE = f"results/publish/{config['publish']['name']}-{config['publish']['version']}"
# The bundle is declared by files written last (not directory(): Snakemake would add its
# .snakemake_timestamp to the published directory).
PUBLISHED = [f"{BUNDLE}/SHA256SUMS", *([f"{BUNDLE}.tar.gz"] if config["publish"]["tarball"] else [])]


rule lookup_alert_names:
    input:
        unpack(source_prediction_inputs),
        features=all_batches("results/features/{batch}.parquet"),
        scores="results/anomaly/scores.parquet",
        predictions=all_batches("results/classify/predictions/{batch}.parquet"),
        classifier_metrics="results/classify/metrics.json",
        crossmatch=all_batches("results/crossmatch/{batch}.parquet"),
        manifests=all_batches("results/fetch/{batch}.tsv"),
    output:
        names="results/candidates/alert_names.csv",
    localrule: True  # the network: compute nodes are often offline
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/lookup_alert_names.log",
    params:
        candidates=table_section(config["candidates"]),
        lookup={key: ALERT_LOOKUP[key] for key in ("url", "radius_arcsec")},
        cache="results/candidates/cache/alerce_cones.json",
    script:
        "../scripts/lookup_alert_names.py"


rule make_candidates:
    input:
        unpack(source_prediction_inputs),
        features=all_batches("results/features/{batch}.parquet"),
        scores="results/anomaly/scores.parquet",
        predictions=all_batches("results/classify/predictions/{batch}.parquet"),
        classifier_metrics="results/classify/metrics.json",
        crossmatch=all_batches("results/crossmatch/{batch}.parquet"),
        manifests=all_batches("results/fetch/{batch}.tsv"),
        alert_names=ALERT_NAMES,
    output:
        ecsv=report(
            "results/candidates/candidates.ecsv",
            caption="../report/candidates.rst",
            category="Candidates",
            subcategory="Tables",
        ),
        csv="results/candidates/candidates.csv",
        votable="results/candidates/candidates.vot",
        lists=report(
            LIST_TABLES,
            caption="../report/candidate_lists.rst",
            category="Candidates",
            subcategory="Tables",
        ),
        other_formats=expand("results/candidates/{name}.{ext}", name=CANDIDATE_LISTS, ext=["vot", "csv"]),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/make_candidates.log",
    benchmark:
        "results/benchmarks/make_candidates.tsv"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        dr=DR,
        candidates=table_section(config["candidates"]),
    script:
        "../scripts/make_candidates.py"


rule plot_candidates:
    input:
        lists=LIST_TABLES,
        scores="results/anomaly/scores.parquet",
        features=all_batches("results/features/{batch}.parquet"),
        objects=all_batches("results/clean/{batch}.objects.parquet"),
        manifests=all_batches("results/fetch/{batch}.tsv"),
    output:
        lightcurves=report(
            directory("results/candidates/lightcurves"),
            patterns=["lc_{objectid}.png"],
            caption="../report/lightcurves.rst",
            category="Candidates",
            subcategory="Light curves",
            labels={"objectid": "{objectid}"},
        ),
        scores=report(
            "results/candidates/score_distribution.png",
            caption="../report/score_distribution.rst",
            category="Candidates",
            subcategory="Overview",
        ),
        sky_map=report(
            "results/candidates/sky_map.png",
            caption="../report/sky_map.rst",
            category="Candidates",
            subcategory="Overview",
        ),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/plot_candidates.log",
    benchmark:
        "results/benchmarks/plot_candidates.tsv"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        lists=CANDIDATE_LISTS,
        plots=plot_section(config["candidates"]),
        clean=CLEAN_CUTS,
    script:
        "../scripts/plot_candidates.py"


rule render_candidates_html:
    input:
        lists=LIST_TABLES,
        lightcurves="results/candidates/lightcurves",
        scores="results/candidates/score_distribution.png",
        sky_map="results/candidates/sky_map.png",
    output:
        "results/candidates/index.html",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/render_candidates_html.log",
    benchmark:
        "results/benchmarks/render_candidates_html.tsv"
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=10,
    params:
        lists=CANDIDATE_LISTS,
        dr=DR,
        source=config["source"],
        title=f"skysift candidates — {config['publish']['name']} {config['publish']['version']}",
    script:
        "../scripts/render_candidates_html.py"


rule publish_candidates:
    input:
        lists=LIST_TABLES,
        other_formats=expand("results/candidates/{name}.{ext}", name=CANDIDATE_LISTS, ext=["vot", "csv"]),
        lightcurves="results/candidates/lightcurves",
        scores_png="results/candidates/score_distribution.png",
        sky_map="results/candidates/sky_map.png",
        html="results/candidates/index.html",
        data=[
            *all_batches("results/fetch/{batch}.tsv"),
            *all_batches("results/clean/{batch}.objects.parquet"),
            *all_batches("results/crossmatch/{batch}.parquet"),
            *all_batches("results/features/{batch}.parquet"),
            *all_batches("results/classify/predictions/{batch}.parquet"),
            "results/classify/metrics.json",
            "results/anomaly/scores.parquet",
            *ALERT_NAMES,
        ],
    output:
        sums=PUBLISHED[0],
        provenance=report(
            f"{BUNDLE}/provenance.json",
            caption="../report/publish.rst",
            category="Publication",
        ),
        tarball=PUBLISHED[1:],
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/publish_candidates.log",
    benchmark:
        "results/benchmarks/publish_candidates.tsv"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        lists=CANDIDATE_LISTS,
        dr=DR,
        source=config["source"],
        publish=config["publish"],
    script:
        "../scripts/publish_candidates.py"
