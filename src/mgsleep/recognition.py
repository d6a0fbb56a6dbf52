"""What a person typed for a medicine or supplement -> the substances it contains.

People type what is on the box: a brand ("Ciproxin 500 mg"), a combination ("Triumeq"), a
strength and a form after the name ("omeprazol 20 mg mga"), a Dutch or German spelling, a
typo. Recognition reads all of these and says how sure it is:

- an exact name (generic, brand or product) is taken as it is;
- a spelling variant (ph/f, doubled vowels, a final -e) or a close typo is taken as the
  nearest name and reported, so the person can check it ("read as X: check this");
- where two names are equally close, both are taken, so the stricter rule applies;
- what cannot be read at all is returned as unknown: the screen treats it conservatively.

The matching is data: every name comes from the evidence base, none from this module.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Literal

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract

from mgsleep.evidence import Evidence, evidence_digest, load_evidence
from mgsleep.names import fold, strip_magnesium
from mgsleep.warm import digest, warm

_INDEX_CODE = ("recognition.py", "names.py")

TargetKind = Literal[
    "medicine",
    "preparation",
    "form",
    "companion",
    "multivitamin",
    "magnesium",
    "condition",
    "condition_term",
]
Vocabulary = Literal["intake", "conditions"]


class How(StrEnum):
    exact = "exact"
    spelling = "spelling"
    close = "close"


@dataclass(frozen=True)
class Target:
    """One thing a name can mean."""

    kind: TargetKind
    key: str
    oral: bool = True


@dataclass(frozen=True)
class Reading:
    """One part of what was typed, read as one or more targets."""

    typed: str
    how: How
    targets: tuple[Target, ...]
    read_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recognition:
    typed: str
    readings: tuple[Reading, ...]
    strength_mg: float | None = None
    unread: tuple[str, ...] = field(default=())

    @property
    def recognised(self) -> bool:
        return bool(self.readings)

    @property
    def targets(self) -> list[Target]:
        return [t for r in self.readings for t in r.targets]

    def keys(self, kind: TargetKind) -> list[str]:
        return list(dict.fromkeys(t.key for t in self.targets if t.kind == kind))

    @property
    def guessed(self) -> list[Reading]:
        """Readings that were not an exact name: the person should check them."""
        return [r for r in self.readings if r.how is not How.exact]

    @property
    def oral(self) -> bool:
        return any(t.oral for t in self.targets)


# --- normalising what was typed ------------------------------------------------------------

_STRENGTH = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(mg|milligram|g|gram|mcg|µg|ug|microgram|ml|mmol|ie|iu|%)(?![a-z])"
)
# Words on a box that say how much, in what form or by whom, never what is in it.
_NOISE = frozenset(
    """
    tablet tabletten tablets tabl tab tabs tbl capsule capsules capsula
    caps cap kapsel kapseln kauwtablet kauwtabletten kautabletten bruistablet
    bruistabletten brausetabletten
    smelttablet smelttabletten dragee dragees drank siroop stroop suspensie suspension solution
    oplossing poeder powder pulver sachet sachets granulaat granules granulat zakje
    zakjes liquid oral orale filmomhuld filmomhulde omhuld omhulde mga msr
    maagsapresistent maagsapresistente retard xr sr cr er la mr zr
    xl ods forte mite junior plus druppels druppel tropfen drops
    inhalatie vloeistof sandoz teva mylan viatris aurobindo accord pch ratiopharm
    apotex actavis centrafarm hexal stada zentiva krka disphar healthypharm bluefish
    xiromed glenmark aristo basics abz heumann aliud eg focus sun
    dd per dag daags daily a day x keer maal
    mal voorgeschreven prescribed vrij verkrijgbaar de het een van voor
    bij tegen in op om na s avonds avond ochtend
    ochtends morgens middags nachts slapen slapengaan zo nodig als the
    an for against at on night morning evening bedtime needed
    when prn 1x 2x 3x 1dd 2dd 3dd 1dd1 2dd1
    3dd1 stuks stuk complex complete compleet totaal total extra premium
    puur pure natural natuurlijk vegan hooggedoseerd high strength sterk max
    maximum ultra advanced original origineel
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_MULTIVITAMIN_WORDS = (
    "multivitamine",
    "multivitaminen",
    "multivitamin",
    "multivitamins",
    "multimineraal",
    "multi vitamine",
    "multi vitamin",
    "multi",
    "a z",
    "a tot z",
    "vitaminen en mineralen",
    "vitamins and minerals",
)
_MAGNESIUM_STEM = re.compile(r"magne(s|z)i")
_SEPARATORS = re.compile(r"\s*(?:/|\+|,|;|&|\(|\)|\ben\b|\band\b|\bmet\b|\bwith\b|\bund\b)\s*")
MIN_FUZZY_LENGTH = 5


def normalise(typed: str) -> tuple[str, float | None]:
    """The folded text without its strength, and the first strength in mg (if one is given)."""
    text = fold(typed).replace("®", " ").replace("™", " ")
    strength_mg = None
    match = _STRENGTH.search(text)
    if match is not None and match.group(2) in _MG_PER_UNIT:
        strength_mg = float(match.group(1).replace(",", ".")) * _MG_PER_UNIT[match.group(2)]
    text = _STRENGTH.sub(" ", text)
    text = re.sub(r"[^\w\s/+,;&()]", " ", text)
    return re.sub(r"\s+", " ", text).strip(), strength_mg


_MG_PER_UNIT = {"mg": 1.0, "milligram": 1.0, "g": 1000.0, "gram": 1000.0}


def skeleton(name: str) -> str:
    """A spelling-blind form: 'Ciprofloxacine' and 'ciprofloxacin', 'chloortalidon' and
    'chlortalidone', 'omeprazool' and 'omeprazole' come out the same."""
    s = fold(name).replace(" ", "").replace("-", "")
    for old, new in (
        ("ph", "f"),
        ("th", "t"),
        ("ch", "k"),
        ("qu", "k"),
        ("ck", "k"),
        ("ij", "i"),
        ("ie", "i"),
        ("ae", "e"),
        ("y", "i"),
        ("c", "k"),
        ("x", "ks"),
        ("z", "s"),
    ):
        s = s.replace(old, new)
    s = re.sub(r"(.)\1+", r"\1", s)
    for ending in ("um", "e"):
        if s.endswith(ending) and len(s) > len(ending) + 3:
            s = s[: -len(ending)]
    return s


def _allowed_distance(length: int) -> int:
    if length < MIN_FUZZY_LENGTH:
        return 0
    return 1 if length < 9 else 2


# --- the index -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameIndex:
    exact: dict[str, tuple[Target, ...]]
    spelled: dict[str, tuple[Target, ...]]
    shown: dict[Target, str]

    @functools.cached_property
    def skeletons(self) -> list[str]:
        return list(self.spelled)

    @functools.cached_property
    def typed_names(self) -> list[str]:
        """Names a typo can be near: substances, products, forms, companions, conditions."""
        fuzzy_kinds = {"multivitamin", "magnesium"}
        return [
            name
            for name, targets in self.exact.items()
            if len(name) >= MIN_FUZZY_LENGTH and not all(t.kind in fuzzy_kinds for t in targets)
        ]


def _names(ev: Evidence) -> Iterator[tuple[str, Target]]:
    for medicine in ev.medicines:
        target = Target("medicine", medicine.key)
        for name in (*medicine.names, medicine.key.replace("_", " ")):
            yield name, target
        for brand in medicine.brands:
            yield brand.name, Target("medicine", medicine.key, oral=brand.oral)
    for preparation in ev.preparations:
        for name in preparation.names:
            yield name, Target("preparation", preparation.key)
    for form in ev.forms:
        target = Target("form", form.key)
        for name in (form.key.replace("_", " "), form.name.nl, form.name.en, *form.aliases):
            yield name, target
            yield f"magnesium {name}", target
    for companion in ev.companions:
        target = Target("companion", companion.key)
        for name in (companion.key.replace("_", " "), companion.name.nl, companion.name.en):
            yield name, target
        for alias in companion.aliases:
            yield alias, target
    for word in _MULTIVITAMIN_WORDS:
        yield word, Target("multivitamin", "multivitamin")
    for word in ("magnesium", "magnesia", "magnesii", "magnésium", "mg"):
        yield word, Target("magnesium", "magnesium")


def _condition_names(ev: Evidence) -> Iterator[tuple[str, Target]]:
    for condition in ev.conditions:
        target = Target("condition", condition.key)
        for name in (condition.name.nl, condition.name.en, *condition.names):
            yield name, target
    for term in ev.condition_terms:
        target = Target("condition_term", term.key)
        for name in (term.name.nl, term.name.en, *term.names):
            yield name, target


def _clean(name: str) -> str:
    return normalise(name)[0]


# One index per Evidence object and vocabulary; the object is kept so its id is not reused.
_INDEXES: dict[tuple[int, Vocabulary], tuple[Evidence, NameIndex]] = {}


def name_index(ev: Evidence, vocabulary: Vocabulary = "intake") -> NameIndex:
    cached = _INDEXES.get((id(ev), vocabulary))
    if cached is None or cached[0] is not ev:
        cached = (ev, _index_of(ev, vocabulary))
        _INDEXES[(id(ev), vocabulary)] = cached
    return cached[1]


def _index_of(ev: Evidence, vocabulary: Vocabulary) -> NameIndex:
    def build() -> NameIndex:
        return _build_index(_names(ev) if vocabulary == "intake" else _condition_names(ev))

    if ev is not load_evidence():  # a test's own evidence: built, not kept
        return build()
    # The program's own evidence: the same index on every start, so kept between runs, under
    # a key of the evidence and of the code that folds and indexes names.
    code = resources.files("mgsleep")
    key = digest(
        [evidence_digest().encode(), *(code.joinpath(f).read_bytes() for f in _INDEX_CODE)]
    )
    return warm(f"names-{vocabulary}", key, build, NameIndex)


def _build_index(names: Iterator[tuple[str, Target]]) -> NameIndex:
    exact: dict[str, list[Target]] = {}
    spelled: dict[str, list[Target]] = {}
    shown: dict[Target, str] = {}
    for name, target in names:
        folded = _clean(name)
        if not folded:
            continue
        _add(exact, folded, target)
        if len(folded) >= 3 and target.kind not in ("multivitamin", "magnesium"):
            _add(spelled, skeleton(folded), target)
        shown.setdefault(Target(target.kind, target.key), name)
    return NameIndex(
        exact={k: tuple(v) for k, v in exact.items()},
        spelled={k: tuple(v) for k, v in spelled.items()},
        shown=shown,
    )


def _add(index: dict[str, list[Target]], name: str, target: Target) -> None:
    targets = index.setdefault(name, [])
    if target not in targets:
        targets.append(target)


# --- reading ---------------------------------------------------------------------------------


def recognise(typed: str, ev: Evidence, vocabulary: Vocabulary = "intake") -> Recognition:
    """Every substance, product, form or companion in what was typed (or, for the vocabulary
    "conditions", every condition)."""
    name_index(ev, vocabulary)  # keeps `ev` alive beside its id for the cache below
    return _recognise(typed, id(ev), vocabulary)


@functools.lru_cache(maxsize=4096)
def _recognise(typed: str, ev_id: int, vocabulary: Vocabulary) -> Recognition:
    ev, index = _INDEXES[(ev_id, vocabulary)]
    return _read(typed, ev, index, vocabulary)


def _read(typed: str, ev: Evidence, index: NameIndex, vocabulary: Vocabulary) -> Recognition:
    text, strength_mg = normalise(typed)
    readings: list[Reading] = []
    unread: list[str] = []
    for segment in _SEPARATORS.split(text):
        tokens = [t for t in segment.replace("-", " ").split() if t]
        found, left = _read_segment(tokens, index, vocabulary)
        readings += found
        unread += left
    if vocabulary == "intake" and readings:
        # "omeprazol voor de maag": words that name what it is for are not another medicine.
        unread = [part for part in unread if not recognise(part, ev, "conditions").readings]
    return Recognition(
        typed=typed, readings=tuple(readings), strength_mg=strength_mg, unread=tuple(unread)
    )


def _read_segment(
    tokens: list[str], index: NameIndex, vocabulary: Vocabulary
) -> tuple[list[Reading], list[str]]:
    """Longest exact names first; the tokens left over are tried for spelling and typos."""
    readings: list[Reading] = []
    left: list[list[str]] = [[]]
    i = 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            span = " ".join(tokens[i:j])
            targets = index.exact.get(span) or _forms_only(index.exact.get(strip_magnesium(span)))
            if targets:
                readings.append(Reading(typed=span, how=How.exact, targets=targets))
                left.append([])
                i = j
                break
        else:
            token = tokens[i]
            if token in _NOISE or token.isdigit() or len(token) < 2:
                left.append([])
            else:
                left[-1].append(token)
            i += 1
    unread: list[str] = []
    if vocabulary == "conditions":
        # A condition is read as a phrase: 'ziekte van X' is not 'ziekte' misspelt.
        if not readings and tokens:
            whole = _guess_one(" ".join(tokens), index)
            return ([whole], []) if whole is not None else ([], [" ".join(tokens)])
        return _drop_bare_magnesium(readings), [" ".join(run) for run in left if run]
    for run in (r for r in left if r):
        guessed = _guess(run, index)
        if guessed:
            readings += guessed
        else:
            unread.append(" ".join(run))
    return _drop_bare_magnesium(readings), unread


def _forms_only(targets: tuple[Target, ...] | None) -> tuple[Target, ...]:
    """'magnesiumcitraat' names the form 'citraat'; only forms take the magnesium prefix."""
    return tuple(t for t in targets or () if t.kind == "form")


def _guess(run: list[str], index: NameIndex) -> list[Reading]:
    """The whole run first, then word by word: each word can be a medicine's name."""
    whole = _guess_one(" ".join(run), index)
    if whole is not None:
        return [whole]
    return [r for r in (_guess_one(token, index) for token in run) if r is not None]


def _guess_one(text: str, index: NameIndex) -> Reading | None:
    key = skeleton(text)
    if _MAGNESIUM_STEM.search(text) and "magnesium" in index.exact:
        return Reading(typed=text, how=How.exact, targets=(Target("magnesium", "magnesium"),))
    targets = index.spelled.get(key)
    if targets and len(key) >= 3:
        return _reading(text, How.spelling, targets, index)
    allowed = _allowed_distance(len(text.replace(" ", "")))
    if allowed == 0:
        return None
    # A typo is near the name as typed or near its spelling-blind form; take the nearest.
    close: dict[int, list[Target]] = {}
    for query, choices, table in (
        (text, index.typed_names, index.exact),
        (key, index.skeletons, index.spelled),
    ):
        for choice, distance, _ in extract(
            query, choices, scorer=Levenshtein.distance, score_cutoff=allowed, limit=None
        ):
            close.setdefault(int(distance), []).extend(table[choice])
    if not close:
        return None
    best = close[min(close)]
    return _reading(text, How.close, tuple(dict.fromkeys(best)), index)


def _reading(text: str, how: How, targets: tuple[Target, ...], index: NameIndex) -> Reading:
    shown = tuple(dict.fromkeys(index.shown.get(Target(t.kind, t.key), t.key) for t in targets))
    return Reading(typed=text, how=how, targets=targets, read_as=shown)


def _drop_bare_magnesium(readings: list[Reading]) -> list[Reading]:
    """'magnesium' beside a named form says nothing more: keep the form."""
    has_form = any(t.kind == "form" for r in readings for t in r.targets)
    if not has_form:
        return readings
    return [r for r in readings if not all(t.kind == "magnesium" for t in r.targets)]


def shown_name(target: Target, ev: Evidence) -> str:
    return name_index(ev).shown.get(Target(target.kind, target.key), target.key)
