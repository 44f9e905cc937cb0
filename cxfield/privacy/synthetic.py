"""Synthetic interview transcripts and notes, English and Spanish, with personal details
planted at known positions: what the redaction benchmark and its tests measure against.

Details come from Faker; some are spelled the way Whisper writes speech (lower case,
numbers said digit by digit, "at" / "dot", "arroba" / "punto").  Hard negatives (dollar
amounts, appointment dates, program names, office and window numbers) sit beside them:
a detector that flags those loses precision.

Two template sets: :data:`TUNING` (look at these while improving the detectors) and
:data:`HELD_OUT` (never used for tuning; the tests hold the targets on them too)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: kinds as the benchmark reports them; the part before ``_`` is the redaction kind
REPORTED_KINDS = (
    "ssn", "ssn_spoken", "phone", "phone_spoken", "email", "email_spoken", "address",
    "dob", "zip", "case", "name_listed", "name_trigger",
)  # fmt: skip

EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ES_DIGITS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]

# Templates: {slot} is a planted detail, {neg:...} a hard negative; one sentence each.
TUNING = {
    "en": [
        "My social is {ssn}.",
        "Yeah so my social security number is {ssn_spoken}.",
        "You can call me at {phone}, that's my cell.",
        "My number is {phone_spoken}.",
        "Email me at {email} please.",
        "it's {email_spoken}",
        "I live at {address}, the one with the blue door.",
        "I was born on {dob}.",
        "The zip code is {zip}.",
        "My case number is {case}.",
        "My name is {name_trigger} and I've been coming here for years.",
        "{name_listed} came with me, she's my sister.",
        "Then {name_listed} at the front desk told me to wait.",
        "I paid {neg:money} for the copies.",
        "My appointment is on {neg:date} at {neg:time}.",
        "They sent me to window {neg:office} for {neg:program}.",
    ],
    "es": [
        "Mi número de seguro social es {ssn}.",
        "El seguro social es {ssn_spoken}.",
        "Me puede llamar al {phone}.",
        "Mi teléfono es {phone_spoken}.",
        "Mi correo es {email}.",
        "es {email_spoken}",
        "Vivo en {address}, cerca del mercado.",
        "Nací el {dob}.",
        "El código postal es {zip}.",
        "Mi número de caso es {case}.",
        "Me llamo {name_trigger} y vengo desde hace años.",
        "{name_listed} vino conmigo, es mi hermana.",
        "Luego {name_listed} en la ventanilla me dijo que esperara.",
        "Pagué {neg:money} por las copias.",
        "Mi cita es el {neg:date} a las {neg:time}.",
        "Me mandaron a la ventanilla {neg:office} para {neg:program}.",
    ],
}
HELD_OUT = {
    "en": [
        "Uh the SSN they have on file is {ssn}, I checked twice.",
        "ok the last one, social, {ssn_spoken}",
        "if they need me it's {phone} any time after five",
        "reach me on {phone_spoken} okay",
        "I told her my email, {email}, and she wrote it down",
        "send it to {email_spoken} thank you",
        "we moved to {address} last spring",
        "date of birth {dob}",
        "Chicago, zip code {zip}",
        "the letter said claim {case} was closed",
        "hi um my name's {name_trigger}, I'm here for my renewal",
        "and {name_listed}, my caseworker, never called back",
        "{name_listed} said it would take ten days",
        "it cost me {neg:money} in bus fare",
        "they gave me {neg:date} as the next date",
        "I waited at counter {neg:office}, the {neg:program} line",
    ],
    "es": [
        "el seguro social que tienen es {ssn}",
        "mi seguro social, {ssn_spoken}",
        "si me necesitan llamen al {phone} por la tarde",
        "mi celular es el {phone_spoken}",
        "le di mi correo, {email}, y lo anotó",
        "mándenlo a {email_spoken} gracias",
        "nos mudamos a {address} en la primavera",
        "fecha de nacimiento {dob}",
        "el código postal {zip}",
        "la carta decía que el caso {case} se cerró",
        "hola, mi nombre es {name_trigger}, vengo por la renovación",
        "y {name_listed}, la trabajadora social, nunca llamó",
        "{name_listed} dijo que tardaría diez días",
        "me costó {neg:money} de autobús",
        "me dieron el {neg:date} para la próxima cita",
        "esperé en el mostrador {neg:office}, la fila de {neg:program}",
    ],
}
FILLER = {
    "en": [
        "The line was long this morning.",
        "I had to come back twice because a form was missing.",
        "Honestly the staff were kind but the system is confusing.",
        "I didn't know which documents to bring.",
        "um yeah it took about an hour",
    ],
    "es": [
        "La fila estaba muy larga esta mañana.",
        "Tuve que regresar dos veces porque faltaba un formulario.",
        "El personal fue amable pero el sistema es confuso.",
        "No sabía qué documentos traer.",
        "pues sí, tardó como una hora",
    ],
}
CASE_PATTERNS = (r"SNAP-\d{8}", r"\bMA\d{7}\b")


@dataclass(frozen=True)
class Planted:
    start: int
    end: int
    kind: str
    value: str


@dataclass
class Sample:
    language: str
    text: str
    planted: list[Planted]
    #: the names the researcher listed for the session (what the scan is told)
    listed_names: list[str] = field(default_factory=list)
    case_patterns: tuple[str, ...] = CASE_PATTERNS
    #: the hard negatives' positions (start, end)
    negatives: list[tuple[int, int]] = field(default_factory=list)


def _fakers(seed: int) -> dict[str, Any]:
    from faker import Faker

    fakers = {"en": Faker("en_US"), "es": Faker(["es_MX", "es_ES"])}
    for index, faker in enumerate(fakers.values()):
        faker.seed_instance(seed * 7 + index)
    return fakers


def _spell(digits: str, language: str, rng: random.Random) -> str:
    words = EN_DIGITS if language == "en" else ES_DIGITS
    out = []
    for digit in digits:
        if digit == "0" and language == "en" and rng.random() < 0.5:
            out.append("oh")
        else:
            out.append(words[int(digit)])
    return " ".join(out)


def _ssn(faker: Any, rng: random.Random) -> str:
    from cxfield.privacy.patterns import valid_ssn

    while True:
        digits = f"{rng.randint(1, 899):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if valid_ssn(digits):
            return digits


def _phone_digits(language: str, rng: random.Random) -> str:
    if language == "es" and rng.random() < 0.5:
        return f"{rng.choice(['55', '33', '81'])}{rng.randint(10000000, 99999999)}"
    area = f"{rng.randint(2, 9)}{rng.randint(0, 99):02d}"
    return f"{area}{rng.randint(2, 9)}{rng.randint(0, 999999):06d}"


def _phone(language: str, rng: random.Random) -> str:
    d = _phone_digits(language, rng)
    if language == "es" and d[:2] in ("55", "33", "81"):
        return rng.choice([f"{d[:2]} {d[2:6]} {d[6:]}", f"+52 {d[:2]} {d[2:6]} {d[6:]}", d])
    a, b, c = d[:3], d[3:6], d[6:]
    return rng.choice(
        [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"{a} {b} {c}", f"+1 {a} {b} {c}",
         f"1-{a}-{b}-{c}", f"({a}){b}-{c}"]
    )  # fmt: skip


def _email(faker: Any, rng: random.Random) -> tuple[str, str]:
    first = faker.first_name().lower().replace(" ", "")
    last = faker.last_name().lower().replace(" ", "")
    from cxfield.privacy.detect import fold

    first, last = fold(first), fold(last)
    domain = rng.choice(["gmail", "yahoo", "hotmail", "outlook", "aol"])
    tld = rng.choice(["com", "com", "net", "org"])
    sep = rng.choice([".", "_", ""])
    local = f"{first}{sep}{last}" if rng.random() < 0.7 else f"{first}{rng.randint(1, 99)}"
    return local, f"{domain}.{tld}"


def _spoken_email(local: str, domain: str, language: str) -> str:
    dot, at = ("dot", "at") if language == "en" else ("punto", "arroba")
    under = "underscore" if language == "en" else "guion bajo"
    local = local.replace(".", f" {dot} ").replace("_", f" {under} ")
    local = re.sub(r"(\d+)", r" \1", local).strip()
    return f"{local} {at} {domain.replace('.', f' {dot} ')}"


def _dob(faker: Any, language: str, rng: random.Random) -> str:
    day = faker.date_of_birth(minimum_age=18, maximum_age=90)
    if language == "es":
        months = [
            "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
            "septiembre", "octubre", "noviembre", "diciembre",
        ]  # fmt: skip
        return str(
            rng.choice(
                [f"{day.day} de {months[day.month - 1]} de {day.year}", day.strftime("%d/%m/%Y")]
            )
        )
    return str(
        rng.choice(
            [day.strftime("%B %-d, %Y"), day.strftime("%m/%d/%Y"), day.strftime("%-m/%-d/%y")]
        )
    )


def _negative(slot: str, faker: Any, language: str, rng: random.Random) -> str:
    if slot == "money":
        amount = rng.choice([45, 120, 1250, 2300, 87])
        return rng.choice([f"${amount:,}", f"${amount}.50", f"{amount} dollars"])
    if slot == "date":
        day = faker.date_between(start_date="-1y", end_date="+1y")
        return str(day.strftime("%B %-d, %Y" if language == "en" else "%d/%m/%Y"))
    if slot == "time":
        return rng.choice(["10:30", "9 am", "2:15", "las once"])
    if slot == "office":
        return str(rng.choice([3, 12, 214, 305, 1200]))
    programs = ["SNAP", "WIC", "Medicaid", "TANF", "Section 8", "LIHEAP", "the 1040 form"]
    return rng.choice(programs)


def _value(slot: str, faker: Any, language: str, rng: random.Random, sample: Sample) -> str:
    if slot == "ssn":
        d = _ssn(faker, rng)
        return rng.choice([f"{d[:3]}-{d[3:5]}-{d[5:]}", f"{d[:3]} {d[3:5]} {d[5:]}"])
    if slot == "ssn_spoken":
        return _spell(_ssn(faker, rng), language, rng)
    if slot == "phone":
        return _phone(language, rng)
    if slot == "phone_spoken":
        return _spell(_phone_digits(language, rng), language, rng)
    if slot in ("email", "email_spoken"):
        local, domain = _email(faker, rng)
        return f"{local}@{domain}" if slot == "email" else _spoken_email(local, domain, language)
    if slot == "address":
        return str(faker.street_address())
    if slot == "dob":
        return _dob(faker, language, rng)
    if slot == "zip":
        return str(faker.postcode())[:5]
    if slot == "case":
        return rng.choice(
            [f"SNAP-{rng.randint(0, 99999999):08d}", f"MA{rng.randint(0, 9999999):07d}"]
        )
    name = f"{faker.first_name()} {faker.last_name()}" if rng.random() < 0.6 else faker.first_name()
    if slot == "name_listed":
        sample.listed_names.append(name)
    return str(name)


def _whisperish(text: str, rng: random.Random) -> str:
    return text.lower() if rng.random() < 0.4 else text


def generate(
    count: int, *, seed: int = 0, templates: dict[str, list[str]] | None = None
) -> Iterator[Sample]:
    """``count`` transcripts (half English, half Spanish) of 6–10 sentences each."""
    templates = templates or TUNING
    rng = random.Random(seed)
    fakers = _fakers(seed)
    for index in range(count):
        language = "en" if index % 2 == 0 else "es"
        faker = fakers[language]
        sample = Sample(language, "", [])
        parts: list[str] = []
        cursor = 0
        sentences = rng.sample(templates[language], k=min(6, len(templates[language])))
        sentences += rng.sample(FILLER[language], k=2)
        rng.shuffle(sentences)
        for sentence in sentences:
            lower = rng.random() < 0.4
            for piece in re.split(r"(\{[^}]+\})", sentence):
                if piece.startswith("{neg:"):
                    value = _negative(piece[5:-1], faker, language, rng)
                    value = value.lower() if lower else value
                    sample.negatives.append((cursor, cursor + len(value)))
                elif piece.startswith("{"):
                    slot = piece[1:-1]
                    value = _value(slot, faker, language, rng, sample)
                    value = value.lower() if lower else value
                    sample.planted.append(Planted(cursor, cursor + len(value), slot, value))
                else:
                    value = piece.lower() if lower else piece
                parts.append(value)
                cursor += len(value)
            parts.append(" ")
            cursor += 1
        sample.text = "".join(parts)
        yield sample
