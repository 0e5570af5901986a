"""The learned layer of ``mailport explain`` (``mailport.core.diagnostics.learned``) and the
provider-grouped cross-validation that estimates how ``explain`` does on replies from providers it
has never seen (``tests/corpus/diagnostics/crossval.py``; README "The held-out split, honestly")."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from mailport.core.diagnostics import classify_text, learned
from mailport.core.diagnostics.classifier import POLICY, THRESHOLD, combine, rules_with_basis
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


def test_session5_concepts_in_the_seed_languages() -> None:
    for text, concept in [
        ("Das Postfach ist deaktiviert.", "k:disabled"), ("La casella è stata disattivata.", "k:disabled"),
        ("Account suspended", "k:disabled"), ("Te veel berichten verzonden.", "k:limit"),
        ("Trop de messages envoyés.", "k:limit"), ("Relaying denied", "k:relay"),
        ("DKIM signature missing", "k:domainauth"), ("Indirizzo non valido", "k:invalid"),
        ("Le délai de remise a expiré", "k:expired"), ("Verstoß gegen die Richtlinie", "k:policy"),
        ("Anhang nicht erlaubt", "k:content"), ("Limite giornaliero raggiunto", "k:daily"),
    ]:
        assert concept in learned.features(text), (text, concept)
    assert "k:disabled" not in learned.features("550 5.1.1 User unknown")


def test_session8_mailbox_concept_in_the_seed_languages() -> None:
    for text in ("Cassetta postale piena", "Das Postfach ist voll", "Het postvak is vol",
                 "La boîte aux lettres est pleine", "Mailbox full"):
        assert {"k:mailbox", "k:full", "kk:full+mailbox"} <= set(learned.features(text)), text
    assert "k:mailbox" not in learned.features("535 5.7.8 Authentication failed")


def test_session9_not_found_at_a_domain_is_its_own_concept() -> None:
    for text in ("jan wasn't found at bakkerij.example", "anna wurde nicht in firma.example gefunden",
                 "marie n'a pas été trouvé sur societe.example", "mario non è stato trovato in azienda.example",
                 "piet is niet gevonden op bedrijf.example"):
        assert "k:notfoundat" in learned.features(text), text
    assert "k:notfoundat" not in learned.features("Der Server wurde nicht gefunden")


def test_a_concept_weighs_more_than_a_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply sharing a word with one class and only a concept (another language's word for
    password) with the other: the concept's class gains when a concept counts ``CONCEPT_WEIGHT``
    times instead of once, and the answer itself follows the evidence."""
    assert learned.CONCEPT_WEIGHT > 1
    pairs = [("zq", "a.first"), ("wachtwoord", "b.second")]
    assert {"k:password"} == {f for f in learned.features("zq kennwort") if f.startswith("k:")}

    def first(weight: int) -> float:
        monkeypatch.setattr(learned, "CONCEPT_WEIGHT", weight)
        prediction = learned.train(pairs).predict("zq kennwort")
        return prediction.probability if prediction.code == "a.first" else 1 - prediction.probability

    assert first(learned.CONCEPT_WEIGHT) < first(1)
    monkeypatch.undo()
    assert learned.train(pairs).predict("kennwort").code == "b.second"  # the concept alone carries


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


def test_a_sure_model_replaces_a_reading_of_the_status_code_alone() -> None:
    """``mailport explain``'s policy: where the rules only read the generic meaning of a code (a
    4xx is "temporary failure"), a sure learned answer says more; a learned ``unknown``, an unsure
    answer or a rule that matched the reply's words keep the rules' answer."""
    assert POLICY == "rules>model(unknown,status)"
    text = "421 4.7.0 [XY12] ref=AB12CD"
    diagnosis, basis = rules_with_basis(text)
    assert (diagnosis.code, basis) == ("server.temporary_failure", "status")

    def answer(code: str, probability: float, base: str = basis) -> str:
        return combine(diagnosis, base, learned.Prediction(code, probability), text=text, policy=POLICY,
                       threshold=THRESHOLD).code

    assert answer("server.rate_limited", 0.9) == "server.rate_limited"
    assert answer("server.rate_limited", THRESHOLD - 0.01) == "server.temporary_failure"
    assert answer("unknown", 0.99) == "server.temporary_failure"
    assert answer("server.rate_limited", 0.9, base="signature") == "server.temporary_failure"
    # The old policy (model only where the rules say unknown) would not have looked.
    assert combine(diagnosis, basis, learned.Prediction("server.rate_limited", 0.9), text=text,
                   policy="rules>model(unknown)", threshold=THRESHOLD).code == "server.temporary_failure"


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
    # it adds about 15 points on replies neither layer had seen (replay.py: 412 -> 517 of 716 with
    # the shipped policy, README "Session 5").
    assert score[POLICY] >= score["rules"] - 0.01
    # 1026/1100 = 93.3 % after session 5; 1196/1290 = 92.7 % after session 6 added 190 replies from
    # sources the rules had not been written for (their first measurements: 73.1 %, 76.7 %, README "Session 6");
    # 1344/1441 = 93.3 % after session 7's batch (first measurement 130/151 = 86.1 %), its relabelled
    # clash and its family rules (README "Session 7"); 1421/1542 = 92.2 % with session 8's batch in (first
    # measurement 78/101 = 77.2 %), 1439/1542 = 93.3 % after its family rules and concepts (README "Session 8");
    # 1459/1572 = 92.8 % with session 9's batch in (first measurement 23/30 = 76.7 %), 1465/1572 = 93.2 % after its
    # family rules (README "Session 9").
    assert score[POLICY] >= 0.93
    # 766/1100 after session 4's relabelling; 796/1100 with session 5's concept weight and concepts;
    # 942/1290 after session 6's batches, its certificate concept and concept weight 8; 1069/1441 after
    # session 7's batch and four concepts (not signed in, token, web browser, unverified sender); 1137/1542 with
    # session 8's batch in, 1143/1542 after its "mailbox" concept; 1161/1572 = 73.9 % with session 9's batch in,
    # the same after its "notfoundat" concept (the batch's replies from new sources pulled it under 74 %).
    assert score["model"] >= 0.735
