"""Splink 5 (DuckDB backend) on the hub's batch-match contract.

    python tests/bench/splink_baseline.py INPUT.csv --out OUT.csv [--stats STATS.json]
                                          [--threshold 0.95] [--extra-thresholds 0.9 0.99]

Reads INPUT.csv (source_system, source_id, name, tax_id, email, phone, street,
city, postcode, country) and writes OUT.csv (source_system, source_id,
golden_id), like ``hub master match``. Run it with the interpreter of the
separate Splink virtualenv (/work/venv-bench/bin/python): Splink is not a
dependency of the hub.

The model follows Splink's documentation for a deduplication of this shape
(tutorials 03-05, the "deduplicate_50k_synthetic" DuckDB example and the
training-rationale topic guide):

* one table, ``link_type="dedupe_only"`` across all three source systems;
* prediction blocking rules on cheap equality keys (several, OR-ed);
* ``probability_two_random_records_match`` from deterministic rules and a recall
  guess, u by random sampling, m by EM over two blocking passes (round robin);
* ``predict`` then ``cluster_pairwise_predictions_at_threshold`` at match
  probability 0.95, the value of the DuckDB dedupe example.

Inputs are pre-cleaned the way a careful user would (see ``prepare``): Unicode
NFKC, lower case, German transliteration and accent folding, punctuation
stripped, legal-form words and words that open or join names in any company's
name ("Société … de …", "Établissements …") removed from the name, compact tax
ids, national phone numbers as digits, free-mail domains dropped from the
domain column, ZIP+4 cut to ZIP5, placeholder identifiers ("N/A", "000000000")
and identifiers and domains held by more than 20 records left out (each found
by looking at the largest clusters of a run at 1M records, as a careful user
would). ``--describe`` prints the exact settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
import unicodedata

T_START = time.perf_counter()

import pandas as pd  # noqa: E402

THRESHOLD_DEFAULT = 0.95

COUNTRY_CALLING = {
    "DE": "49",
    "GB": "44",
    "US": "1",
    "FR": "33",
    "NL": "31",
    "CN": "86",
    "JP": "81",
}

# Legal-form words dropped from company names (after lower-casing, NFKC and
# removing dots, so "B.V." -> "bv", "S.A.R.L." -> "sarl", "㈱" -> "(株)").
LEGAL_FORM_TOKENS = set(
    """gmbh mbh ag kg kgaa co ug haftungsbeschrankt haftungsbeschraenkt se ek ohg ev u und
    aktiengesellschaft gesellschaft ltd limited plc llp public company inc incorporated corp
    corporation llc lp sa sas sarl eurl snc bv nv vof besloten vennootschap""".split()
)
# Words that open or join company names in every country and tell no company from another
# ("Société Normande d'Électricité", "Établissements Bonnet"): left in, they give
# every pair of such names a Jaro-Winkler prefix bonus, and at 1M records the clusters chain
# into thousands of French companies.
NAME_STOPWORDS = set("""societe ste sté etablissements ets de d du des la le les l et the of and""".split())
CJK_LEGAL_FORMS = [
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "株式会社",
    "有限会社",
    "合同会社",
    "(株)",
]
FREEMAIL_DOMAINS = set(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.co.jp yahoo.fr yahoo.de hotmail.com
    hotmail.co.uk hotmail.nl hotmail.fr outlook.com live.com msn.com aol.com icloud.com me.com
    gmx.de gmx.net web.de t-online.de btinternet.com orange.fr free.fr laposte.net sfr.fr
    ziggo.nl kpnmail.nl qq.com 163.com 126.com sina.com sohu.com docomo.ne.jp nifty.com
    ezweb.ne.jp softbank.ne.jp""".split()
)

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _fold(s: str) -> str:
    """NFKC, lower case, German transliteration, accents removed (CJK untouched)."""
    s = unicodedata.normalize("NFKC", s).lower().translate(_TRANSLIT)
    s = unicodedata.normalize("NFKD", s)
    return unicodedata.normalize("NFC", "".join(c for c in s if not unicodedata.combining(c)))


_NON_WORD = re.compile(r"[^\w]+")


def clean_text(s: str) -> str:
    s = _fold(s).replace("&", " and ").replace(".", "")
    return " ".join(_NON_WORD.sub(" ", s).split())


def name_core(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    for form in CJK_LEGAL_FORMS:
        s = s.replace(form, " ")
    toks = [t for t in clean_text(s).split() if t not in LEGAL_FORM_TOKENS and t not in NAME_STOPWORDS]
    return " ".join(toks)


def clean_tax_id(s: str, country: str) -> str:
    s = re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", s).upper())
    if country in ("DE", "GB", "FR", "NL") and s.startswith(country):
        s = s[2:]
    if country == "JP" and len(s) == 14 and s.startswith("T"):
        s = s[1:]
    return s


def clean_phone(s: str, country: str) -> str:
    """Digits of the national significant number: country code or trunk prefix removed."""
    s = unicodedata.normalize("NFKC", s).replace("(0)", "")
    digits = re.sub(r"\D", "", s)
    if not digits:
        return ""
    intl = s.strip().startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    cc = COUNTRY_CALLING.get(country, "")
    if intl and cc and digits.startswith(cc):
        digits = digits[len(cc) :]
    elif country == "US" and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits.lstrip("0")


def clean_postcode(s: str, country: str) -> str:
    s = re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", s).upper())
    if country == "US":
        s = s[:5]
    return s


#: Placeholders exports put in identifier columns (seen in value counts, as Splink's
#: ``profile_columns`` shows them): no value, not a shared one.
PLACEHOLDERS = {"na", "n/a", "na.", "n.a.", "tbd", "tba", "-", "--", "none", "null", "unknown", "123456789"}
#: An identifier held by more records than this is no identifier (a placeholder nobody listed,
#: a switchboard): left out, as a careful user would after looking at its value counts.
MAX_IDENTIFIER_SHARE = 20


def _placeholder(value: str) -> bool:
    text = value.strip().lower()
    digits = re.sub(r"\D", "", text)
    return text in PLACEHOLDERS or (len(digits) >= 6 and len(set(digits)) == 1 and len(digits) == len(text))


def _drop_shared(values: list[str]) -> list[str]:
    counts = pd.Series(values).value_counts()
    shared = set(counts[counts > MAX_IDENTIFIER_SHARE].index) - {""}
    return ["" if v in shared else v for v in values]


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """The cleaned columns Splink compares. Empty strings become NULL; placeholders and
    identifiers shared by implausibly many records too."""
    out = pd.DataFrame({"unique_id": range(len(df)), "country": df["country"]})
    c = df["country"].tolist()
    out["name_core"] = [name_core(v) for v in df["name"]]
    out["tax_id"] = _drop_shared(["" if _placeholder(v) else clean_tax_id(v, k) for v, k in zip(df["tax_id"], c)])
    email = _drop_shared([unicodedata.normalize("NFKC", v).strip().lower() for v in df["email"]])
    out["email"] = email
    domains = [e.rsplit("@", 1)[1] if "@" in e else "" for e in email]
    # a domain held by more than MAX_IDENTIFIER_SHARE records is a provider's (bigpond.com,
    # yahoo.com.au), whatever the free-mail list knows: no company's evidence
    out["email_domain"] = _drop_shared(["" if d in FREEMAIL_DOMAINS else d for d in domains])
    out["phone"] = _drop_shared(["" if _placeholder(v) else clean_phone(v, k) for v, k in zip(df["phone"], c)])
    out["postcode"] = [clean_postcode(v, k) for v, k in zip(df["postcode"], c)]
    out["city"] = [clean_text(v) for v in df["city"]]
    out["street"] = [clean_text(v) for v in df["street"]]
    return out.replace("", None)


def settings_and_training():
    """Settings plus the training recipe (kept together so --describe prints both)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    prediction_rules = [
        block_on("tax_id"),
        block_on("phone"),
        block_on("email"),
        block_on("email_domain"),
        block_on("name_core"),
        block_on("substr(name_core, 1, 4)", "postcode"),
        block_on("substr(name_core, 1, 4)", "city"),
        block_on("street", "city"),
    ]
    email_comparison = cl.CustomComparison(
        output_column_name="email",
        comparison_description="email: exact, same company domain, else",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.CustomLevel(
                '"email_domain_l" = "email_domain_r"',
                label_for_charts="Same (non-free-mail) domain",
            ),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=prediction_rules,
        comparisons=[
            cl.JaroWinklerAtThresholds("name_core", [0.95, 0.88, 0.7]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("tax_id", 1),
            email_comparison,
            cl.ExactMatch("phone"),
            cl.LevenshteinAtThresholds("postcode", 1),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
        ],
        additional_columns_to_retain=["email_domain"],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    training = {
        "deterministic_rules": [
            block_on("tax_id"),
            block_on("name_core", "city"),
            block_on("email"),
        ],
        "recall": 0.7,
        "u_max_pairs": 1e7,
        "u_seed": None,
        "em_rules": [block_on("tax_id"), block_on("name_core")],
    }
    return settings, training


def _rule_sql(rule) -> str:
    return rule.get_blocking_rule("duckdb").blocking_rule_sql


def describe() -> dict:
    settings, training = settings_and_training()
    d = settings.get_settings("duckdb").as_dict()
    return {
        "splink_version": __import__("splink").__version__,
        "link_type": d["link_type"],
        "blocking_rules_to_generate_predictions": [
            r["blocking_rule"] for r in d["blocking_rules_to_generate_predictions"]
        ],
        "comparisons": [
            {
                "column": c.get("output_column_name"),
                "levels": [lv.get("label_for_charts") or lv["sql_condition"] for lv in c["comparison_levels"]],
                "tf_adjusted_levels": [
                    lv.get("label_for_charts") for lv in c["comparison_levels"] if lv.get("tf_adjustment_column")
                ],
            }
            for c in d["comparisons"]
        ],
        "probability_two_random_records_match": {
            "deterministic_rules": [_rule_sql(r) for r in training["deterministic_rules"]],
            "recall": training["recall"],
        },
        "u": {
            "method": "estimate_u_using_random_sampling",
            "max_pairs": training["u_max_pairs"],
            "seed": training["u_seed"],
        },
        "m": {
            "method": "estimate_parameters_using_expectation_maximisation",
            "blocking_rules": [_rule_sql(r) for r in training["em_rules"]],
        },
        "clustering": "cluster_pairwise_predictions_at_threshold",
    }


def run(
    input_csv: str,
    out_csv: str,
    threshold: float,
    extra_thresholds: list[float],
    stats_path: str | None,
    model_path: str | None,
) -> dict:
    from splink import DuckDBAPI, Linker

    stats: dict = {"threshold_match_probability": threshold}
    t = {"import": time.perf_counter() - T_START}

    def lap(key: str, t0: float) -> float:
        now = time.perf_counter()
        t[key] = now - t0
        return now

    t0 = time.perf_counter()
    raw = pd.read_csv(input_csv, dtype=str, keep_default_na=False)
    t0 = lap("read_csv", t0)
    df = prepare(raw)
    t0 = lap("prepare", t0)

    settings, training = settings_and_training()
    db_api = DuckDBAPI()
    sdf = db_api.register(df, dataset_display_name="customers")
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    t0 = lap("register", t0)

    linker.training.estimate_probability_two_random_records_match(
        training["deterministic_rules"], recall=training["recall"]
    )
    t0 = lap("train_lambda", t0)
    linker.training.estimate_u_using_random_sampling(max_pairs=training["u_max_pairs"], seed=training["u_seed"])
    t0 = lap("train_u", t0)
    for rule in training["em_rules"]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    t0 = lap("train_m_em", t0)

    predict_floor = min([threshold] + list(extra_thresholds))
    df_predict = linker.inference.predict(threshold_match_probability=predict_floor)
    t0 = lap("predict", t0)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        df_predict, threshold_match_probability=threshold
    )
    t0 = lap("cluster", t0)
    _write_clusters(clusters, raw, out_csv)
    t0 = lap("write_csv", t0)
    t["total_main"] = time.perf_counter() - T_START
    stats["pairs_above_predict_floor"] = int(df_predict.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0])
    stats["predict_floor"] = predict_floor
    stats["lambda"] = linker._settings_obj._probability_two_random_records_match

    # Extras (not part of the timed main run): other thresholds on the same predictions.
    t_extra = time.perf_counter()
    extra_outputs = {}
    for thr in extra_thresholds:
        path = f"{os.path.splitext(out_csv)[0]}.t{thr:g}.csv"
        c = linker.clustering.cluster_pairwise_predictions_at_threshold(df_predict, threshold_match_probability=thr)
        _write_clusters(c, raw, path)
        extra_outputs[f"{thr:g}"] = path
    if model_path:
        linker.misc.save_model_to_json(model_path, overwrite=True)
    t["extras"] = time.perf_counter() - t_extra
    stats["extra_outputs"] = extra_outputs
    stats["timings_s"] = {k: round(v, 3) for k, v in t.items()}
    if stats_path:
        with open(stats_path, "w") as f:
            json.dump(stats, f, indent=2)
    return stats


def _write_clusters(clusters, raw: pd.DataFrame, path: str) -> None:
    rel = clusters.as_duckdbpyrelation().project("unique_id, cluster_id")
    cl = rel.df().sort_values("unique_id")
    golden = pd.Series(cl["cluster_id"].astype(str).to_numpy(), index=cl["unique_id"].to_numpy())
    out = raw[["source_system", "source_id"]].copy()
    out["golden_id"] = "S" + golden.reindex(range(len(raw))).fillna("missing").to_numpy()
    out.to_csv(path, index=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", nargs="?")
    ap.add_argument("--out")
    ap.add_argument("--threshold", type=float, default=THRESHOLD_DEFAULT)
    ap.add_argument("--extra-thresholds", type=float, nargs="*", default=[])
    ap.add_argument("--stats", help="write timings and counts as JSON here")
    ap.add_argument("--model", help="save the trained model JSON here (after timing)")
    ap.add_argument("--describe", action="store_true", help="print the configuration as JSON and exit")
    args = ap.parse_args(argv)
    if args.describe:
        print(json.dumps(describe(), indent=2, ensure_ascii=False))
        return 0
    if not args.input or not args.out:
        ap.error("INPUT and --out are required")
    stats = run(args.input, args.out, args.threshold, args.extra_thresholds, args.stats, args.model)
    print(json.dumps(stats["timings_s"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
