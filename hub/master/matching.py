"""The matching engine: blocking keys, pair scoring, and the link / review / new decision.

One engine serves both paths. Live ingest looks candidates up in the ``match_keys`` table
(:class:`hub.master.store.SqlIndex`); the batch contract ``hub master match`` computes the same
candidates and pair facts in worker processes (:func:`hub.master.batch.match_batch`), decided
in order with the same :class:`Tally`.
Records are matched one after another against what came before, exactly as they would arrive
live, so the batch figures describe the live behaviour.

Scoring is a sum of per-field weights (Fellegi–Sunter style log-odds, declared in
``mappings/matching.yaml``): agreement adds, disagreement subtracts, a missing value says
nothing. Evidence is kept for every field so a steward can see why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from hub.master.keys import MatchRecord, Prepared, prepare
from hub.master.normalise import is_weak, tax_relation
from hub.master.rules import AgreeDisagree, MatchRules
from hub.master.similarity import contains, token_similarity

#: (field, level, weight, ours, theirs, similarity): one field's comparison, before it becomes
#: :class:`Evidence` for the few pairs whose evidence is kept.
_Field = tuple[str, str, float, "str | None", "str | None", "float | None"]


@dataclass(slots=True)
class Evidence:
    field: str
    level: str  # exact, high, medium, subset, low, differs, agree, disagree, weak, capped
    weight: float
    ours: str | None
    theirs: str | None
    similarity: float | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "field": self.field,
            "level": self.level,
            "weight": self.weight,
            "ours": self.ours,
            "theirs": self.theirs,
        }
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 3)
        return out


@dataclass(frozen=True, slots=True)
class Candidate:
    source_id: int
    golden_id: int
    record: MatchRecord | Prepared


@dataclass(slots=True)
class GoldenScore:
    golden_id: int
    score: float
    source_id: int
    evidence: list[Evidence]

    def as_dict(self) -> dict[str, object]:
        return {
            "golden_id": self.golden_id,
            "source_id": self.source_id,
            "score": round(self.score, 3),
            "fields": [e.as_dict() for e in self.evidence],
        }


@dataclass(slots=True)
class Decision:
    outcome: str  # linked | review | new
    best: list[GoldenScore] = field(default_factory=list)
    #: Other golden records this record also links to above the link threshold, with no tax
    #: id between them that disagrees: the record bridges them, they are one customer.
    bridged: list[int] = field(default_factory=list)

    @property
    def golden_id(self) -> int | None:
        return self.best[0].golden_id if self.outcome == "linked" else None

    @property
    def score(self) -> float | None:
        return self.best[0].score if self.best else None


class Matcher:
    """Scores pairs and decides, with the weights and thresholds of one ``MatchRules``."""

    def __init__(self, rules: MatchRules):
        self.rules = rules
        w = rules.weights
        s = rules.similarity
        self._name_levels = (
            (s.high, "high", w.name.high),
            (s.medium, "medium", w.name.medium),
            (s.low, "low", w.name.low),
        )
        address_only = w.street.agree + w.postcode.agree + w.city.agree + max(w.country.agree, 0.0) + w.name.disagree
        self._precheck = address_only < rules.thresholds.review
        #: the most a pair whose names conflict can score (see _cap_conflict): a review
        self._conflict_cap = rules.thresholds.review
        #: the most a name and a street can add to a pair's score (score_reaching)
        self._name_most = max(w.name.model_dump().values())
        self._street_most = max(w.street.agree, w.street.disagree)
        self._exact_fields = (
            ("email", w.email),
            ("phone", w.phone),
            ("postcode", w.postcode),
            ("country", w.country),
        )

    # --- pairs -------------------------------------------------------------------------------
    def _name(self, a: Prepared, b: Prepared) -> _Field | None:
        """The names' level and weight; None when either is missing or they are written in
        different scripts ("上海明华电子科技" / "Shanghai Minghua Electronic Technology": no
        string measure can compare them, so the name says nothing and the identifiers decide).

        Two registered names (both with a legal form) where one has words the other lacks
        ("Auto Hartmann GmbH" / "Auto Hartmann Immobilien GmbH", "…有限公司" / "…有限公司北京分公司")
        are two legal entities of one group, not a trade name beside its legal name: level
        ``differs``, weighted as a disagreement (and a conflict, see :meth:`_fields`).
        """
        ka, kb = a.name_key, b.name_key
        if not ka or not kb or a.cjk != b.cjk:
            return None
        w = self.rules.weights.name
        if ka == kb:
            return ("name", "exact", w.exact, ka, kb, 1.0)
        if a.legal_form and b.legal_form and _legal_names_differ(a, b):
            return ("name", "differs", w.disagree, ka, kb, None)
        # CJK names are compared without their city prefix: "深圳市佳美包装" is "佳美包装".
        ca, cb = a.name_compared or ka, b.name_compared or kb
        sim = max(fuzz.ratio(ca, cb), fuzz.token_sort_ratio(ca, cb)) / 100.0
        high = self.rules.similarity.high
        if sim < high and (len(a.name_tokens) > 1 or len(b.name_tokens) > 1):
            sim = max(sim, token_similarity(a.name_tokens, b.name_tokens))
        folded = a.name_folded != ka or b.name_folded != kb
        if folded and not a.cjk and sim < high:
            # Umlauts written out: "suedfix" is "südfix", folded to "sudfix".
            sim = max(sim, fuzz.ratio(a.name_folded or ka, b.name_folded or kb) / 100.0)
        level, weight = "disagree", w.disagree
        for threshold, name, value in self._name_levels:
            if sim >= threshold:
                level, weight = name, value
                break
        if weight < w.high and a.cjk and contains(ca, cb, 4):
            # A Chinese or Japanese name inside another, e.g. with its region prefix dropped:
            # four or more characters in sequence rarely agree by chance.
            level, weight = "high", w.high
        elif weight < w.high and _is_subset(a, b):
            # A trade name inside the legal name: two or more words in common is a name,
            # one word alone ("Thomas") could be anyone's.
            words = min(len(a.name_tokens), len(b.name_tokens))
            subset = w.subset_words if words >= 2 else w.subset
            if weight < subset:
                level, weight = "subset", subset
        return ("name", level, weight, ka, kb, sim)

    def _fields(self, a: Prepared, b: Prepared, out: list[_Field] | None) -> float:
        """The pair's score; with ``out``, also each field's (field, level, weight, ours,
        theirs, similarity). One function for both, so evidence never disagrees with scores;
        the hot path passes None and builds nothing."""
        return self._names_and_street(a, b, self._identifiers(a, b, out), out)

    def _identifiers(self, a: Prepared, b: Prepared, out: list[_Field] | None) -> float:
        """The cheap part of the score: tax id, e-mail, phone, postcode, country, domain, city."""
        w = self.rules.weights
        total = 0.0
        ca, cb = a.city, b.city
        postcodes_agree = bool(a.postcode and a.postcode == b.postcode)
        if ca and cb and not (postcodes_agree and ca != cb):  # "Munich" / "München": the postcode says
            agree = ca == cb or contains(ca, cb, 2) or fuzz.ratio(ca, cb) >= 85
            total += self._agreement("city", agree, w.city, ca, cb, out)
        ta, tb = a.tax_id, b.tax_id
        if ta and tb:
            total += self._tax(ta, tb, out)
        for fname, weights in self._exact_fields:
            va, vb = getattr(a, fname), getattr(b, fname)
            if va and vb:
                if fname == "phone" and (is_weak(va) or is_weak(vb)):
                    # a number that failed validation agrees by its digits or says nothing
                    if va.lstrip("?+") == vb.lstrip("?+"):
                        total += self._agreement(fname, True, weights, va, vb, out)
                    continue
                total += self._agreement(fname, va == vb, weights, va, vb, out)
        da, db = a.email_domain, b.email_domain
        if da and db and not (a.email and a.email == b.email):
            total += self._agreement("email_domain", da == db, w.email_domain, da, db, out)
        return total

    def _names_and_street(self, a: Prepared, b: Prepared, total: float, out: list[_Field] | None) -> float:
        """``total`` (the identifiers' part) plus the names and the street, capped when the
        names conflict."""
        w = self.rules.weights
        name = self._name(a, b)
        conflict = False
        if name is not None:
            total += name[2]
            conflict = name[1] == "differs" or (name[1] == "disagree" and _share_a_word(a, b))
            if out is not None:
                out.insert(0, name)  # the name first: what a steward reads first
        sa, sb = a.street, b.street
        if sa and sb:
            sim = fuzz.token_sort_ratio(sa, sb) / 100.0
            agree = sim >= self.rules.similarity.street or (a.street_cjk and contains(sa, sb, 4))
            if agree and a.street_numbers and b.street_numbers:
                agree = a.street_numbers == b.street_numbers  # Prinsenlaan 134 is not 46
            total += self._agreement("street", agree, w.street, sa, sb, out, sim)
        if conflict and total > self._conflict_cap:
            total = self._cap_conflict(a, b, total, out)
        return total

    def _cap_conflict(self, a: Prepared, b: Prepared, total: float, out: list[_Field] | None) -> float:
        """Names that disagree (or two legal names of one group) are another company, whatever
        the group shares: its domain, its HQ switchboard, its building. Such a pair links
        only when the tax id is the same *and* the street agrees (one entity at one site,
        typed very differently); otherwise it waits for a steward at most — a record
        carrying the parent's tax id beside a sibling's name and address is the steward's
        call, not the tax id's alone."""
        if self._same_site_entity(a, b):
            return total
        cap = self._conflict_cap
        if out is not None:
            out.append(("name_conflict", "capped", cap - total, None, None, None))
        return cap

    def _same_site_entity(self, a: Prepared, b: Prepared) -> bool:
        """The same checked tax id at the same street: one entity, whatever its names say."""
        return bool(
            a.tax_id
            and b.tax_id
            and tax_relation(a.tax_id, b.tax_id) == "same"
            and a.street
            and b.street
            and self._streets_agree(a, b)
        )

    def _streets_agree(self, a: Prepared, b: Prepared) -> bool:
        sa, sb = a.street or "", b.street or ""
        agree = fuzz.token_sort_ratio(sa, sb) / 100.0 >= self.rules.similarity.street or (
            a.street_cjk and contains(sa, sb, 4)
        )
        if agree and a.street_numbers and b.street_numbers:
            agree = a.street_numbers == b.street_numbers
        return agree

    def _tax(self, ta: str, tb: str, out: list[_Field] | None) -> float:
        """Tax ids by :func:`tax_relation`: only checked ids of one kind agree or disagree; a
        failed id with the same digits is weak evidence; anything else says nothing."""
        relation = tax_relation(ta, tb)
        if relation is None:
            return 0.0
        w = self.rules.weights.tax_id
        if relation == "weak":
            if out is not None:
                out.append(("tax_id", "weak", w.weak, ta, tb, None))
            return w.weak
        return self._agreement("tax_id", relation == "same", w, ta, tb, out)

    @staticmethod
    def _agreement(
        field: str,
        agree: bool,
        weights: AgreeDisagree,
        ours: str,
        theirs: str,
        out: list[_Field] | None,
        similarity: float | None = None,
    ) -> float:
        weight = weights.agree if agree else weights.disagree
        if out is not None:
            out.append((field, "agree" if agree else "disagree", weight, ours, theirs, similarity))
        return weight

    def score(self, a: Prepared, b: Prepared) -> float:
        """Score of the pair alone (the hot path: no evidence objects)."""
        return self._fields(a, b, None)

    def score_reaching(self, a: Prepared, b: Prepared, floor: float) -> float:
        """The pair's score when it can reach ``floor``; otherwise some value below ``floor``.

        For a caller to whom only scores at or above ``floor`` matter (the batch path: below
        the link threshold a pair changes no label). When the identifiers and address parts
        (cheap exact comparisons) with the most a name and a street could add stay below
        ``floor``, the names (the costly part: up to four string measures) are never compared.
        """
        total = self._identifiers(a, b, None)
        bound = total
        if a.name_key and b.name_key and a.cjk == b.cjk:
            bound += self._name_most
        if a.street and b.street:
            bound += self._street_most
        if bound < floor:
            return bound
        return self._names_and_street(a, b, total, None)

    def compare(self, a: MatchRecord | Prepared, b: MatchRecord | Prepared) -> tuple[float, list[Evidence]]:
        """Score of the pair and the evidence of every field both records have."""
        fields: list[_Field] = []
        total = self._fields(prepare(a), prepare(b), fields)
        return total, [Evidence(*f) for f in fields]

    # --- decisions ---------------------------------------------------------------------------
    def candidate_facts(
        self, rec: Prepared, other: Prepared, scored: bool = True, floor: float | None = None
    ) -> tuple[int, float]:
        """What a decision needs of one candidate that depends on the pair alone: ``VETO``
        (a checked tax id names another entity), ``CONFLICT`` (another registered name of a
        group, see :meth:`decide`) and, with ``SCORED``, the pair's score (the pre-check let
        it through). The batch path computes these for many records in parallel; the
        decision itself (:class:`Tally`) needs the golden ids, which only the sequential pass
        knows. ``scored=False`` leaves out the score: the live path's golden record already
        links through another of its records. With ``floor``, a score below it may be any
        value below it (:meth:`score_reaching`)."""
        if vetoes(rec, other):
            return VETO, 0.0
        flags = CONFLICT if self._conflicts(rec, other) else 0
        if not scored or (self._precheck and not _may_match(rec, other)):
            return flags, 0.0
        if floor is not None:
            return flags | SCORED, self.score_reaching(rec, other, floor)
        return flags | SCORED, self.score(rec, other)

    def _conflicts(self, rec: Prepared, other: Prepared) -> bool:
        return bool(
            rec.legal_form
            and other.legal_form
            and other.name_key != rec.name_key
            and other.cjk == rec.cjk
            and _legal_names_differ(rec, other)
            and not self._same_site_entity(rec, other)
        )

    def decide(self, record: MatchRecord | Prepared, candidates: Iterable[Candidate], keep: int = 3) -> Decision:
        """Best golden record for ``rec`` among the candidates' golden records.

        A golden record scores as its best-matching source record; one whose records carry a
        different tax id than ``rec`` is vetoed outright (branches of one group share names,
        addresses and domains, but never a tax id). One holding a registered name that
        differs from ``rec``'s ("Hunter Holdings Pty Ltd" against "Hunter Holdings Queensland
        Pty Ltd") is another legal entity of the group however well a trade-name record of
        it scores ("HUNTER HOLDINGS" on the group's switchboard): it scores at most a review.
        """
        rec = prepare(record)
        tally = Tally(self.rules.thresholds.link)
        for cand in candidates:
            other = prepare(cand.record)
            flags, score = self.candidate_facts(rec, other, scored=tally.wants(cand.golden_id))
            tally.add(cand.golden_id, cand.source_id, other.tax_id, flags, score, other)
        return self.settle(tally, rec, keep)

    def settle(self, tally: Tally, rec: Prepared | None = None, keep: int = 3) -> Decision:
        """The decision from a tally: link, review or new. With ``rec`` the best golden
        records carry each field's evidence for a steward; the batch path passes none (its
        answer is the labels) and saves three full comparisons per record."""
        cap = self._conflict_cap
        top = sorted(
            (
                (min(score, cap) if golden in tally.conflicted else score, golden, sid, other)
                for golden, (score, sid, other) in tally.per_golden.items()
                if golden not in tally.vetoed
            ),
            key=lambda item: item[0],
            reverse=True,
        )[:keep]
        ranked = []
        for score, golden, sid, other in top:
            evidence: list[Evidence] = []
            if rec is not None and other is not None:
                evidence = self.compare(rec, other)[1]
                pair_score = sum(e.weight for e in evidence)
                if score < pair_score:  # capped by another of the golden record's names
                    evidence.append(
                        Evidence(
                            "name_conflict", "capped", score - pair_score, rec.name_key, tally.conflicted.get(golden)
                        )
                    )
            ranked.append(GoldenScore(golden, score, sid, evidence))
        thresholds = self.rules.thresholds
        if ranked and ranked[0].score >= thresholds.link:
            known = set(tally.tax_ids.get(ranked[0].golden_id, ()))
            bridged = []
            for runner_up in ranked[1:]:
                their_ids = tally.tax_ids.get(runner_up.golden_id, set())
                if runner_up.score >= thresholds.link and not _disagree(known, their_ids):
                    bridged.append(runner_up.golden_id)
                    known |= their_ids
            return Decision("linked", ranked, bridged)
        if ranked and ranked[0].score >= thresholds.review:
            return Decision("review", ranked)
        return Decision("new", ranked)


#: :meth:`Matcher.candidate_facts` flags
VETO, CONFLICT, SCORED = 1, 2, 4


class Tally:
    """One record's candidates, golden record by golden record, in the order they come.

    The live path fills it as it scores (:meth:`Matcher.decide`); the batch path from pair
    facts computed ahead in other processes (:mod:`hub.master.batch`). One class for both is
    what makes their decisions the same.
    """

    __slots__ = ("link", "per_golden", "vetoed", "conflicted", "tax_ids")

    def __init__(self, link: float):
        self.link = link
        self.per_golden: dict[int, tuple[float, int, Prepared | None]] = {}
        self.vetoed: set[int] = set()
        self.conflicted: dict[int, str] = {}  # golden -> its registered name that differs from ours
        self.tax_ids: dict[int, set[str]] = {}

    def wants(self, golden: int) -> bool:
        """False once the golden record links through one of its records: the rest of its
        records need no scoring."""
        best = self.per_golden.get(golden)
        return best is None or best[0] < self.link

    def add(
        self, golden: int, source_id: int, tax_id: str | None, flags: int, score: float, other: Prepared | None
    ) -> None:
        if tax_id and not is_weak(tax_id):
            self.tax_ids.setdefault(golden, set()).add(tax_id)
        if flags & VETO:
            self.vetoed.add(golden)
            return
        if flags & CONFLICT and golden not in self.conflicted:
            self.conflicted[golden] = (other.name_key if other is not None else None) or ""
        if not flags & SCORED or not self.wants(golden):
            return
        best = self.per_golden.get(golden)
        if best is None or score > best[0]:
            self.per_golden[golden] = (score, source_id, other)


def vetoes(rec: Prepared, other: Prepared) -> bool:
    """The other record's checked tax id names another legal entity than ours."""
    theirs = other.tax_id
    return bool(theirs) and not is_weak(theirs or "") and tax_relation(rec.tax_id, theirs) == "different"


def _disagree(ours: set[str], theirs: set[str]) -> bool:
    """Two golden records' checked tax ids name different legal entities."""
    return any(tax_relation(a, b) == "different" for a in ours for b in theirs)


def _may_match(a: Prepared, b: Prepared) -> bool:
    """A cheap pre-check before scoring (a C-level ratio instead of the full comparison).

    False for pairs with no shared identifier and names with no word in common that are
    little alike: their name disagrees, and the address fields alone cannot outweigh that
    (checked against the weights in ``Matcher.__init__``), so skipping them changes no
    decision — short of a name made only of abbreviations of the other's words.
    """
    if (a.tax_id and b.tax_id and tax_relation(a.tax_id, b.tax_id)) or (a.phone and a.phone == b.phone):
        return True
    if (a.email and a.email == b.email) or (a.email_domain and a.email_domain == b.email_domain):
        return True
    ka, kb = a.name_key, b.name_key
    if not ka or not kb:
        return True
    if not a.token_set.isdisjoint(b.token_set):
        return True
    return fuzz.ratio(ka, kb) >= 50


#: "集团" (group) is typed or left out at will: not a word that makes another entity
_GROUP_WORD = "集团"
#: legal-form abbreviations whose one-letter typos ("GmvH", "Ltf") are no word of a name
_FORM_WORDS = ("gmbh", "ltd", "inc", "corp", "sarl", "llc", "plc", "pty")


def _legal_names_differ(a: Prepared, b: Prepared) -> bool:
    """Two registered names where one is the other plus words: "Auto Hartmann GmbH" and
    "Auto Hartmann Immobilien GmbH". For CJK names the extra characters must follow the
    shorter name ("明华电子" / "明华电子北京分公司"); a city in front ("上海明华电子") is a
    region prefix, not another entity."""
    if a.cjk:
        ca = (a.name_compared or "").replace(_GROUP_WORD, "")
        cb = (b.name_compared or "").replace(_GROUP_WORD, "")
        short, long_ = (ca, cb) if len(ca) <= len(cb) else (cb, ca)
        # two or more characters more: one more is a typo ("星高精" / "星高精機")
        return len(short) >= 2 and len(long_) >= len(short) + 2 and short in long_ and not long_.endswith(short)
    ta, tb = a.token_set, b.token_set
    if ta == tb or not (ta < tb or tb < ta):
        return False
    # exact words only: a typo or an abbreviation ("Masch.-Bau") is no other legal entity
    extra = (tb - ta) if ta < tb else (ta - tb)
    return any(not _form_typo(word) for word in extra)


def _share_a_word(a: Prepared, b: Prepared) -> bool:
    """Names that disagree but share a word ("Coral Analytics" / "Coral Solutions"), or for
    CJK names their first two characters: a group's brand with another company's name."""
    if a.cjk:
        ca, cb = a.name_compared or "", b.name_compared or ""
        return len(ca) >= 2 and ca[:2] == cb[:2]
    return not a.token_set.isdisjoint(b.token_set)


def _form_typo(word: str) -> bool:
    """A legal form mistyped beyond what names.py recognises ("gmvh"): not a word of the name."""
    return any(
        Levenshtein.distance(word, form, score_cutoff=1) <= 1 for form in _FORM_WORDS if abs(len(word) - len(form)) <= 1
    )


def _is_subset(a: Prepared, b: Prepared) -> bool:
    """One name is contained in the other: a trade name beside its legal name."""
    if a.cjk or b.cjk:
        return contains(a.name_compared or "", b.name_compared or "", 2)
    ta, tb = a.token_set, b.token_set
    return bool(ta and tb) and (ta <= tb or tb <= ta)
