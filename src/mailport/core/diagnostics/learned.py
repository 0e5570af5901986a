"""A small text classifier learned from the labelled corpus of real server replies.

The rules in :mod:`.classifier` know what they were written for and nothing else; every fresh
round of real replies brought wordings and provider codes they had never met. This layer
generalises from the corpus instead: a multinomial naive Bayes model over the words, word pairs,
four-letter pieces of words and SMTP reply/enhanced status codes of a reply.
:func:`.classifier.classify_text` asks it only where the rules have no confident answer (``unknown``,
or only a status code's generic meaning).

Pure and deterministic: :func:`train` builds a :class:`Model` from ``(text, code)`` pairs (the
same pairs always give the same model); the model shipped with the package
(``learned_model.json``) is generated from ``tests/corpus/diagnostics/replies.json`` by
``tests/corpus/diagnostics/train.py`` and a unit test keeps it equal to a fresh build.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Final

__all__ = ["Model", "Prediction", "features", "shipped_model", "train"]

_WORD_RE: Final = re.compile(r"[^\W\d_]{2,}")
_BASIC_RE: Final = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")
_ENHANCED_RE: Final = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_HOSTISH_RE: Final = re.compile(r"\b[\w-]+(?:\.[\w-]+){2,}\b")  # host names and ids: noise
_STOP: Final = frozenset({
    "the", "to", "of", "and", "or", "for", "is", "in", "on", "be", "this", "that", "it", "at",
    "by", "with", "from", "an", "as", "are", "was", "not", "you", "your", "please", "de", "het",
    "een", "en", "van", "der", "die", "das", "und", "le", "la", "les", "et", "des", "du", "il",
    "di", "per",
})
# Cross-language concepts: the same idea in the words of en, nl, de, fr and it (and of the common
# client libraries), so that a reply in one language is evidence for the same fix in another.
# Generic vocabulary, not any one provider's phrasing; measured in the README ("Session 4").
_CONCEPTS: Final[dict[str, re.Pattern[str]]] = {name: re.compile(pattern) for name, pattern in {
    "password": r"password|passwort|kennwort|wachtwoord|mots? de passe|credenziali|credentials|anmeldedaten",
    "username": r"user ?name|benutzername|gebruikersnaam|nom d'utilisateur|nome utente",
    "auth": r"authent|autenti|anmeld|aanmeld|login|log in|sign in|inlog|identifi",
    "fail": (r"fail|fehl|mislukt|échec|echec|non riuscit|impossibile|impossible|kon niet|konnte nicht|niet gelukt"
             r"|nicht möglich|unable|could not|cannot|can't"),
    "connect": r"connect|verbind|connexion|conness|collegar|collegament",
    "refused": r"refus|verweiger|geweigerd|rifiut|denied|abgelehnt|reject",
    "timeout": r"time ?out|timed out|zeitüberschreitung|verlopen|dépassé|fuori tempo|tempo massimo|délai",
    "unknownhost": (r"unknown host|unbekannt|onbekend|inconnu|sconosciut|not found|nicht gefunden|niet gevonden"
                    r"|introuvable|non trovat|getaddrinfo|enotfound|name or service"),
    "tls": (r"\btls\b|\bssl\b|starttls|secure connection|sichere verbindung|beveiligde verbinding|connexion sécurisée"
            r"|connessione sicura|collegamento sicuro|verschlüssel|versleutel|chiffr|cifrat"),
    "plaintext": r"klartext|platte ?tekst|plain ?text|non chiffrés|testo semplice|unencrypted|ungesichert|onbeveiligd",
    "size": r"size|größe|grootte|taille|dimensione|too large|zu groß|te groot|trop volumineux|troppo grand",
    "maxconn": (r"maximale anzahl|maximale aantal|nombre maximal|massimo numero|numero massimo|maximum number of conn"
                r"|too many (?:simultaneous |concurrent )?connections|zu viele verbindungen|te veel verbindingen"),
    "spam": r"spam|junk|blacklist|blocklist|block list|dnsbl|\brbl\b|spamhaus|reputation",
    "recipient": r"recipient|empfänger|ontvanger|destinataire|destinatari",
    "sender": r"sender|absender|afzender|expéditeur|mittente",
    "full": r"quota|full|voll\b|vol\b|plein|pien[ao]|storage|speicher|espace|spazio",
    "notexist": (r"does not exist|doesn't exist|existiert nicht|bestaat niet|n'existe pas|non esiste|no such"
                 r"|user unknown|inesistent|non esistent"),
    "later": r"try again later|später|later opnieuw|plus tard|più tardi|riprova",
    "disconnect": r"disconnect|abgebrochen|verbroken|déconnecté|disconness|connection (?:lost|closed|reset)",
    "notimap": r"kein imap|geen imap|pas un serveur de type imap|non è un server imap|not an imap",
    # Session 5: the vocabulary of the remaining diagnoses (relay, a disabled account, limits,
    # domain authentication, invalid addresses, expiry, policy, content, daily caps).
    "relay": r"relay|relais|inoltr",
    "disabled": (r"disabled|deactivated|inactive|suspended|gesperrt|deaktiviert|geblokkeerd|gedeactiveerd|désactivé"
                 r"|suspendu|disattivat|sospes"),
    "limit": r"limit|rate|too many|zu viele|te veel|trop de|troppi|frequen|throttl",
    "domainauth": r"\bspf\b|\bdkim\b|\bdmarc\b|spoof|alignment|aligned",
    "invalid": r"invalid|ungültig|ongeldig|invalide|non valid|malformed|syntax|n'est pas valide|non era valid",
    "expired": r"expired|too long|abgelaufen|expiré|scadut|queue",
    "policy": r"policy|richtlinie|beleid|politique|politica|prohibit",
    "content": r"content|inhalt|inhoud|contenu|contenuto|attachment|anhang|bijlage|pièce jointe|allegat|virus|phish",
    "daily": r"daily|per day|täglich|dagelijks|quotidien|giornalier|24 hours",
    # Session 6: a certificate named in any of the languages (K-9's and Outlook's localised notices).
    "certificate": r"certific|zertifik|\bcert\b",
    # Session 7: sending without signing in, OAuth tokens, the webmail sign-in, unverified senders.
    "noauth": (r"not authenticated|unauthenticated|auth(?:entication)? required|not logged in|without auth"
               r"|please authenticate|nicht angemeldet|niet aangemeld|non authentifié|non autenticat"),
    "token": r"oauth|token|invalid_grant|bearer|revoked",
    "browser": r"web ?browser|navigateur|browser web|webmail|webalert",
    "unverified": (r"not verified|unverified|verified sender|nicht verifiziert|niet geverifieerd|non vérifié"
                   r"|non verificat"),
    # Session 8: the recipient's mailbox named in any of the languages (Outlook.com's Italian
    # "cassetta postale", Exchange's "Postfach" / "postvak", French "boîte aux lettres").
    "mailbox": r"mailbox|postfach|postvak|brievenbus|bo[iî]te aux lettres|casella|cassetta postale",
    # Session 9: Exchange's "<name> wasn't found at <domain>" (a recipient, not a server, not found), so that
    # its German "… wurde nicht in <domain> gefunden" is not read as an unknown host by "nicht gefunden".
    "notfoundat": (r"(?:wasn't|was not) found at|wurde nicht in \S+ gefunden|n'a pas été trouvé (?:sur|dans)"
                   r"|non è stato trovato (?:in|su)|is niet gevonden (?:op|bij)"),
}.items()}
ALPHA: Final = 0.1  # additive smoothing
TEMPERATURE: Final = 8.0  # for the posterior only; the answer is the same
MIN_DOCS: Final = 1  # a feature must occur in this many replies to enter the model
# A cross-language concept counts as this many occurrences: its words are few among a reply's many
# pieces and pairs, yet it is what carries from one language and one provider to another
# (provider-grouped cross-validation and the replay, README "Session 5"; 4 then, 8 since session 6,
# swept again on 1260 replies: 3-16, the model alone best at 8, the replay on a plateau from 8).
CONCEPT_WEIGHT: Final = 8


def _weight(feature: str) -> int:
    return CONCEPT_WEIGHT if feature.startswith(("k:", "kk:")) else 1


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return _HOSTISH_RE.sub(" ", text.replace("’", "'"))


def features(text: str) -> list[str]:
    """The features of one reply, each once: words, adjacent word pairs, four-letter pieces of
    words, reply and enhanced status codes, and the cross-language concepts it names (alone and in
    pairs)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    found: list[str] = []
    concepts = [name for name, pattern in sorted(_CONCEPTS.items()) if pattern.search(norm)]
    found += [f"k:{name}" for name in concepts]
    found += [f"kk:{a}+{b}" for i, a in enumerate(concepts) for b in concepts[i + 1:]]
    for match in _ENHANCED_RE.finditer(norm):
        klass, subject, detail = match.groups()
        found += [f"e:{klass}.{subject}.{detail}", f"e:x.{subject}.{detail}", f"e:{klass}.{subject}"]
    for match in _BASIC_RE.finditer(norm):
        code = match.group(1)
        found += [f"c:{code}", f"c:{code[0]}xx"]
    words = [w for w in _WORD_RE.findall(_normalise(text)) if w not in _STOP]
    found += [f"w:{w}" for w in words]
    found += [f"b:{a}_{b}" for a, b in pairwise(words)]
    for word in words:  # pieces of words: inflections and compounds (de, nl) share them
        padded = f"<{word}>"
        found += [f"g:{padded[i:i + 4]}" for i in range(len(padded) - 3)]
    return sorted(set(found))


@dataclass(frozen=True, slots=True)
class Prediction:
    code: str
    probability: float  # posterior of ``code`` among the model's classes


@dataclass(frozen=True, slots=True)
class Model:
    """Per class: how many replies, and in how many of them each feature occurs."""

    classes: tuple[str, ...]
    docs: tuple[int, ...]
    counts: dict[str, dict[int, int]]  # feature -> {class index: replies containing it}
    totals: tuple[int, ...]  # per class: feature occurrences

    def predict(self, text: str) -> Prediction:
        n_docs = sum(self.docs)
        vocabulary = len(self.counts)
        scores = [math.log(d / n_docs) for d in self.docs]
        denominators = [math.log(t + ALPHA * vocabulary) for t in self.totals]
        # Each known feature adds log((count + ALPHA) / denominator) per class; most counts are 0,
        # so add the zero-count term for all classes at once and correct the few that are not.
        log_alpha = math.log(ALPHA)
        known = 0
        for feature in features(text):
            per_class = self.counts.get(feature)
            if per_class is None:
                continue
            weight = _weight(feature)
            known += weight
            for i, n in per_class.items():
                scores[i] += weight * (math.log(n + ALPHA) - log_alpha)
        scores = [s + known * (log_alpha - d) for s, d in zip(scores, denominators, strict=True)]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        top = scores[best]
        # Naive Bayes counts a word, its pieces and its pairs as independent evidence: tempered,
        # its posterior says how sure it is instead of nearly always 1.
        total = sum(math.exp((s - top) / TEMPERATURE) for s in scores)
        return Prediction(self.classes[best], 1 / total)

    def to_json(self) -> str:
        return json.dumps(
            {"classes": list(self.classes), "docs": list(self.docs), "totals": list(self.totals),
             "counts": {f: {str(i): n for i, n in sorted(c.items())} for f, c in sorted(self.counts.items())}},
            ensure_ascii=False, separators=(",", ":"), sort_keys=True,
        ) + "\n"

    @classmethod
    def from_json(cls, data: str) -> Model:
        raw = json.loads(data)
        return cls(
            classes=tuple(raw["classes"]),
            docs=tuple(raw["docs"]),
            totals=tuple(raw["totals"]),
            counts={f: {int(i): n for i, n in c.items()} for f, c in raw["counts"].items()},
        )


def train(pairs: Iterable[tuple[str, str]]) -> Model:
    """A model from ``(reply text, diagnosis code)`` pairs; deterministic whatever their order."""
    rows: Sequence[tuple[str, str]] = sorted(pairs)
    classes = tuple(sorted({code for _, code in rows}))
    index = {code: i for i, code in enumerate(classes)}
    docs = Counter(index[code] for _, code in rows)
    per_feature: dict[str, Counter[int]] = {}
    for text, code in rows:
        for feature in features(text):
            per_feature.setdefault(feature, Counter())[index[code]] += 1
    counts = {f: dict(c) for f, c in per_feature.items() if sum(c.values()) >= MIN_DOCS}
    totals = [0] * len(classes)
    for feature, per_class in counts.items():
        for i, n in per_class.items():
            totals[i] += _weight(feature) * n
    return Model(classes, tuple(docs[i] for i in range(len(classes))), counts, tuple(totals))


@lru_cache(maxsize=1)
def shipped_model() -> Model:
    """The model generated from the corpus and shipped as package data (read once)."""
    data = resources.files("mailport.core.diagnostics").joinpath("learned_model.json").read_text(encoding="utf-8")
    return Model.from_json(data)
