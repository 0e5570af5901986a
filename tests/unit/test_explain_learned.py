"""The learned layer of ``mailport explain`` (``mailport.core.diagnostics.learned``) and the
provider-grouped cross-validation that estimates how ``explain`` does on replies from providers it
has never seen (``tests/corpus/diagnostics/crossval.py``; README "The held-out split, honestly")."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from mailport.core.diagnostics import classify_text, learned
from mailport.core.diagnostics.classifier import THRESHOLD, rules_with_basis
from mailport.diagnosis_text import explain_text

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus" / "diagnostics"
CORPUS = json.loads((CORPUS_DIR / "replies.json").read_text(encoding="utf-8"))
sys.path.insert(0, str(CORPUS_DIR))
import crossval
import train as train_script


def test_shipped_model_is_the_one_built_from_the_corpus() -> None:
    shipped = (Path(learned.__file__).parent / "learned_model.json").read_text(encoding="utf-8")
    assert shipped == train_script.build(), "run tests/corpus/diagnostics/train.py"


def test_training_is_deterministic_whatever_the_order() -> None:
    pairs = [(c["text"], c["code"]) for c in CORPUS[:200]]
    shuffled = pairs[:]
    random.Random(7).shuffle(shuffled)
    assert learned.train(pairs).to_json() == learned.train(shuffled).to_json()
    assert learned.Model.from_json(learned.train(pairs).to_json()) == learned.train(pairs)


def test_features_read_codes_words_and_word_pieces() -> None:
    found = learned.features("550 5.7.1 Relaying denied for smtp.example.com")
    assert {"c:550", "c:5xx", "e:5.7.1", "e:x.7.1", "e:5.7", "w:relaying", "b:relaying_denied", "g:<rel"} <= set(found)
    assert not any("example" in f for f in found)  # host names are noise


def test_features_name_the_same_concept_in_every_seed_language() -> None:
    """A refused plain-text password reads the same in de, nl, fr and it: that shared evidence is
    what lets a reply in one language teach the model about the others."""
    for text in (
        "Der POP3-Server erlaubt die ungesicherte Übertragung des Passworts im Klartext nicht.",
        "Deze POP3-server staat geen plattetekstwachtwoorden toe.",
        "Le serveur IMAP n'autorise pas les mots de passe non chiffrés.",
        "Il server SMTP non gestisce le password in testo semplice.",
    ):
        assert {"k:password", "k:plaintext", "kk:password+plaintext"} <= set(learned.features(text)), text
    assert "k:password" not in learned.features("550 5.1.1 User unknown")


def test_model_answers_where_the_rules_have_nothing() -> None:
    # Wordings no rule knows (not in the corpus either): the rules say unknown, the model reads them.
    for text, code in [
        ("Fehler beim Senden: SMTP-Server mail.example.de ist unbekannt.", "net.host_not_found"),
        ("Impossibile stabilire un collegamento sicuro col server SMTP mail.example.it utilizzando STARTTLS",
         "tls.mode_mismatch"),
        ("De verbinding met SMTP-server mail.example.nl is verlopen.", "net.timeout"),
        ("Die Authentifizierung beim Server mail.example.de ist fehlgeschlagen.", "auth.invalid_credentials"),
    ]:
        assert text not in {c["text"] for c in CORPUS}
        assert rules_with_basis(text)[0].code == "unknown"
        assert classify_text(text, learned_layer=True).code == code
        assert explain_text(text, lang="nl").code == code  # mailport explain, the API
        assert classify_text(text).code == "unknown"  # code that acts on the answer: rules alone


def test_rules_come_first_and_ambiguous_replies_stay_unknown() -> None:
    # A rule's answer is never replaced (the model alone would say app password here).
    predicted = learned.shipped_model().predict("535 5.7.8 Username and Password not accepted.")
    assert predicted.code != "auth.invalid_credentials"
    assert classify_text("535 5.7.8 Username and Password not accepted.",
                         learned_layer=True).code == "auth.invalid_credentials"
    # The model's answer is refined by provider like a rule's: at Gmail a rejected password needs
    # an app password.
    text = "Die Authentifizierung beim Server mail.example.de ist fehlgeschlagen."
    assert classify_text(text, email="a@gmail.com", learned_layer=True).code == "auth.app_password_required"
    for text in ("554 5.7.1 <x@example.org>: Client host rejected: Access denied", "* OK Dovecot 2.3.19 ready.",
                 "Connection lost", "554 5.4.6 Hop count exceeded - possible mail loop"):
        assert classify_text(text, learned_layer=True).code == "unknown"
    # A relay refusal is no guess either: one rule's diagnosis that names its three causes.
    assert classify_text("550 relaying denied for <a@b.nl>", learned_layer=True).code == "send.relay_denied"


def test_explain_stays_fast() -> None:
    learned.shipped_model()  # read once per process
    texts = [c["text"] for c in CORPUS]
    started = time.perf_counter()
    for text in texts:
        classify_text(text, learned_layer=True)
    per_reply = (time.perf_counter() - started) / len(texts)
    print(f"\nclassify_text: {per_reply * 1000:.2f} ms per reply")
    assert per_reply < 0.005


def test_provider_grouped_cross_validation() -> None:
    """The estimate for unseen providers. Rules are hand-written on the whole corpus, so their
    part is training accuracy; the learned layer is truly cross-validated. The floor guards the
    measured figure (README); the issue's 95 % is not reached."""
    train = [c for c in CORPUS if c["split"] == "train"]
    merged: dict[str, list[tuple[dict[str, str | None], str]]] = {}
    groups = {crossval.group_of(c["source"]) for c in train}
    for fold in range(crossval.K):
        test = [c for c in train if crossval.fold_of(crossval.group_of(c["source"])) == fold]
        rest = [c for c in train if crossval.fold_of(crossval.group_of(c["source"])) != fold]
        assert not {crossval.group_of(c["source"]) for c in test} & {crossval.group_of(c["source"]) for c in rest}
        for policy, pairs in crossval.evaluate(test, rest, THRESHOLD).items():
            merged.setdefault(policy, []).extend(pairs)
    score = {p: sum(got == c["code"] for c, got in pairs) / len(pairs) for p, pairs in merged.items()}
    print(f"\n{len(train)} replies, {len(groups)} provider groups: "
          + ", ".join(f"{p} {s:.3f}" for p, s in score.items()))
    # The rules here are scored on the replies they were written for, so the replies left to the
    # model are the hardest ones: the combination can trail the rules a little in this figure while
    # it adds about 9 points on replies neither layer had seen (replay.py: 435 -> 499 of 716, README).
    assert score["rules>model(unknown)"] >= score["rules"] - 0.01
    assert score["rules>model(unknown)"] >= 0.92
    # 772/1100 before session 4's relabelling, 766/1100 after: 27 replies moved into three new
    # diagnoses with 3-14 replies each, too few for a model to learn across provider groups (README).
    assert score["model"] >= 0.69
