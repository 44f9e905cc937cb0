"""Regular expressions for what Presidio's shipped recognizers lack or get wrong for
interviews: SSNs with a validity check, emails written or spoken ("maria at gmail dot com",
"arroba ... punto com"), street addresses (English and Spanish), dates of birth and ZIP
codes only next to words that say so, names after trigger phrases, and numbers said digit
by digit ("five five five, oh one eight seven").

Every pattern names the personal detail with the group ``pii``; the rest is context."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cxfield.privacy.kinds import Kind

FLAGS = re.IGNORECASE | re.UNICODE

LETTER = r"[^\W\d_]"
WORD = rf"(?:{LETTER}|\d)+"

# --- SSN --------------------------------------------------------------------------------
SSN = re.compile(r"(?<![\w-])(?P<pii>\d{3}([- .])\d{2}\2\d{4}|\d{9})(?![\w-])")
SSN_CONTEXT = re.compile(r"\b(?:ssn|social|security|seguro|segura|ss#|s\.s\.)", FLAGS)


def valid_ssn(digits: str) -> bool:
    """The SSA never issues area 000, 666 or 9xx, group 00 or serial 0000."""
    if len(digits) != 9 or len(set(digits)) == 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


# --- email, written or spoken -------------------------------------------------------------
_AT = r"(?:\s*@\s*|\s+(?:at|arroba)\s+)"
_DOT = r"(?:\s*\.\s*|\s+(?:dot|punto)\s+)"
_LOCAL_SEP = r"(?:[._+-]|\s+(?:dot|punto|underscore|guion\s+bajo|guión\s+bajo|dash|guion|guión)\s+)"
_TLD = r"(?:com|net|org|gov|edu|us|es|mx|info|co|io|biz)"
EMAIL = re.compile(
    rf"(?P<pii>(?<![\w.@]){WORD}(?:(?:{_LOCAL_SEP}|\s+(?=\d)){WORD})*{_AT}{WORD}(?:{_DOT}{WORD})*?{_DOT}{_TLD})\b",
    FLAGS,
)

# --- street addresses ---------------------------------------------------------------------
_SUFFIXES = (
    "street st avenue ave road rd boulevard blvd drive dr lane ln court ct way place pl "
    "terrace ter circle cir parkway pkwy highway hwy square sq trail trl loop alley row "
    "crossing xing mill mills ridge run pike point pt heights hts park plaza plz path pass "
    "station stravenue walk view views village ville valley vista estates garden gardens "
    "glen grove harbor haven hill hills hollow island junction key knoll lake lakes landing "
    "light lights manor meadow meadows mount mountain orchard oval pines port ports prairie "
    "ranch rapids rest river shoal shoals shore shores spring springs spur summit throughway "
    "trace track tunnel turnpike underpass union unions well wells creek crest canyon cape "
    "causeway center centers cliff cliffs club common commons corner corners course courts "
    "cove coves dale dam divide estate expressway extension falls ferry field fields flat "
    "flats ford fords forest forge forges fork forks fort freeway gateway green greens "
    "brook brooks burg burgs bypass camp bluff bluffs bottom branch bridge bend beach "
    "motorway neck overpass radial ramp inlet lock locks fall pine loaf mall"
)
_SUFFIX = "(?:" + "|".join(sorted(set(_SUFFIXES.split()), key=len, reverse=True)) + r")s?\.?"
_UNIT = r"(?:,?\s*(?:apt|apartment|suite|ste|unit|#|no\.?|number)\.?\s*#?\s*\w{1,6})"
ADDRESS_EN = re.compile(
    rf"(?P<pii>\b\d{{1,6}}(?:\s+{LETTER}[\w.'-]*){{1,4}}?\s+{_SUFFIX}(?!\w){_UNIT}?)",
    FLAGS,
)
_VIA = (
    r"(?:calle|c/|avenida|av\.|avda\.?|carrera|paseo|plaza|camino|callej[oó]n|ronda|"
    r"traves[ií]a|urbanizaci[oó]n|glorieta|cerrada|privada|andador|circuito|retorno|"
    r"prolongaci[oó]n|continuaci[oó]n|diagonal|perif[eé]rico|boulevard|bulevar|corredor|"
    r"ampliaci[oó]n|pasaje|v[ií]a|vial|rambla|acceso|alameda|cuesta|vereda|peatonal|"
    r"circunvalaci[oó]n|viaducto|pasadizo|eje\s+vial|c\.)"
)
_NUMERO = r"(?:\s*(?:n[uú]mero|no\.?|n[º°]\.?|#))?\s*\d{1,5}(?:\s*(?:[a-z]\b|bis\b))?"
_PISO = (
    r"(?:\s*,?\s*(?:piso|puerta|depto\.?|departamento|interior|int\.?|edif\.?|"
    r"apartamento|apto\.?|apt\.?)\s*\w{1,6}|\s+\d{1,5}\b){0,3}"
)
ADDRESS_ES = re.compile(
    rf"(?P<pii>\b{_VIA}(?:\s+(?:de|del|la|las|los|el|{LETTER}[\w.'-]*)){{1,6}}?,?{_NUMERO}{_PISO})",
    FLAGS,
)

# --- dates of birth and ZIP codes: only with the words that say so ----------------------
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|"
    r"mayo|junio|julio|agosto|sep?tiembre|octubre|noviembre|diciembre)"
)
_DATE = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+)?(?:of\s+)?{_MONTHS},?\s+(?:de(?:l)?\s+)?\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
DOB = re.compile(
    rf"\b(?:born|birth(?:day|date)?|dob|d\.o\.b\.?|nac[ií](?:da|do)?|nacimiento|"
    rf"cumplea[ñn]os)\b[^.\n\d]{{0,30}}?(?P<pii>{_DATE})",
    FLAGS,
)
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP AA AE AP"
)
ZIP_CONTEXT = re.compile(
    r"\b(?:zip(?:\s*code)?|c[oó]digo\s+postal|postal\s+code|c\.\s?p\.)\s*(?:is|es|was|era|"
    r"number|n[uú]mero|:)?\s*(?:is\s+)?(?P<pii>\d{5}(?:-\d{4})?)\b",
    FLAGS,
)
ZIP_AFTER_STATE = re.compile(
    rf"\b(?:{'|'.join(_STATES.split())}),?\s+(?P<pii>\d{{5}}(?:-\d{{4}})?)\b"
)

# --- names after trigger phrases ----------------------------------------------------------
_TRIGGERS = (
    r"(?:my\s+name\s+is|my\s+name's|name's|i\s+am\s+called|i'm\s+called|call\s+me|"
    r"my\s+(?:son|daughter|husband|wife|mother|mom|father|dad|sister|brother|kid|child|"
    r"grandson|granddaughter|partner|caseworker|case\s+worker|worker)(?:'s\s+name\s+is|"
    r"\s+is\s+named|\s+is\s+called|\s+named|\s+called|,)|"
    r"me\s+llamo|mi\s+nombre\s+es|se\s+llama|"
    r"mi\s+(?:hijo|hija|esposo|esposa|marido|mam[aá]|pap[aá]|madre|padre|hermana|hermano|"
    r"nieto|nieta|trabajadora\s+social|trabajador\s+social)\s+(?:se\s+llama|es))"
)
TRIGGER_NAME = re.compile(
    rf"\b{_TRIGGERS}\s+(?P<pii>{LETTER}[\w'-]*(?:\s+{LETTER}[\w'-]*){{0,2}})", FLAGS
)
NAME_STOPWORDS = frozenset(
    [
        "and",
        "y",
        "e",
        "i",
        "im",
        "i'm",
        "but",
        "pero",
        "from",
        "de",
        "del",
        "is",
        "es",
        "the",
        "el",
        "la",
        "a",
        "to",
        "so",
        "um",
        "uh",
        "eh",
        "este",
        "pues",
        "bueno",
        "well",
        "okay",
        "ok",
        "yes",
        "no",
        "sí",
        "si",
        "mm",
        "like",
        "and",
        "or",
        "o",
        "my",
        "mi",
        "it",
        "its",
        "it's",
        "was",
        "era",
        "that",
        "que",
        "with",
        "con",
        "for",
        "para",
        "por",
        "in",
        "en",
        "at",
        "on",
        "he",
        "she",
        "they",
        "we",
        "you",
        "he's",
        "she's",
        "ella",
        "él",
        "ellos",
        "nosotros",
        "usted",
        "ahora",
        "now",
        "then",
        "entonces",
        "also",
        "también",
        "tambien",
        "just",
        "solo",
        "sólo",
        "really",
        "but",
    ]
)
_PARTICLES = frozenset({"de", "del", "la", "las", "los", "van", "von", "da", "di"})


def trim_name(name: str) -> str:
    """The name part of what follows a trigger: up to three words, cut at the first word
    that is not part of a name (``maria and i`` → ``maria``)."""
    kept: list[str] = []
    for word in name.split():
        lowered = word.lower()
        if lowered in NAME_STOPWORDS and not (kept and lowered in _PARTICLES):
            break
        kept.append(word)
    while kept and kept[-1].lower() in _PARTICLES:
        kept.pop()
    return " ".join(kept)


# --- numbers said digit by digit ------------------------------------------------------------
DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
    "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
}  # fmt: skip
_REPEAT = {"double": 2, "doble": 2, "triple": 3, "triple,": 3}
_DIGIT_TOKEN = "|".join(sorted([*DIGIT_WORDS, *_REPEAT], key=len, reverse=True))
SPOKEN_NUMBER = re.compile(
    rf"(?<![\w-])(?P<pii>(?:(?:{_DIGIT_TOKEN})|\d{{1,4}})"
    rf"(?:(?:\s*[,.-]?\s+|\s*-\s*|\s+(?:dash|guion|guión)\s+)(?:(?:{_DIGIT_TOKEN})|\d{{1,4}})){{4,}})(?![\w-])",
    FLAGS,
)
PHONE_CONTEXT = re.compile(
    r"\b(?:phone|number|call|cell|text|tel[eé]fono|n[uú]mero|celular|llamar|llame|ll[aá]mame)",
    FLAGS,
)


def spoken_digits(phrase: str) -> str:
    """The digits a spoken number says: ``double five oh one`` → ``5501``."""
    digits: list[str] = []
    repeat = 1
    for token in re.findall(r"\d+|[^\W\d_]+", phrase.lower()):
        if token.isdigit():
            digits.append(token * repeat if len(token) == 1 else token)
            repeat = 1
        elif token in _REPEAT:
            repeat = _REPEAT[token]
        elif token in DIGIT_WORDS:
            digits.append(DIGIT_WORDS[token] * repeat)
            repeat = 1
    return "".join(digits)


@dataclass(frozen=True)
class Rule:
    """One pattern and the kind it finds."""

    kind: Kind
    pattern: re.Pattern[str]
    score: float


FIXED_RULES = (
    Rule(Kind.EMAIL, EMAIL, 0.95),
    Rule(Kind.ADDRESS, ADDRESS_EN, 0.7),
    Rule(Kind.ADDRESS, ADDRESS_ES, 0.7),
    Rule(Kind.DOB, DOB, 0.9),
    Rule(Kind.ZIP, ZIP_CONTEXT, 0.9),
    Rule(Kind.ZIP, ZIP_AFTER_STATE, 0.6),
)

ZIP_CONTEXT_WORD = re.compile(r"\b(?:zip|c[oó]digo\s+postal|postal\s+code)", FLAGS)
