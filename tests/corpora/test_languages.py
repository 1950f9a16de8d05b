"""Spanish spelling -> syllable nuclei and stress; the language registry."""

import pytest

from corpora.languages import UnreadableText, rules_for, text_nuclei, text_words
from corpora.languages.es import word_nuclei


def spoken(word: str) -> str:
    """Nucleus vowels, the stressed one in upper case."""
    return "".join(v.upper() if s else v for v, s, _ in word_nuclei(word))


@pytest.mark.parametrize(("word", "expected"), [
    ("casa", "Aa"), ("reloj", "eO"), ("canción", "aO"), ("lunes", "Ue"),
    ("sábado", "Aao"), ("miércoles", "Eoe"), ("abril", "aI"),
    # diphthongs: the strong vowel is the nucleus, weak+weak takes the second
    ("cuatro", "Ao"), ("nueve", "Ee"), ("seis", "E"), ("veinte", "Ee"), ("ciudad", "uA"),
    ("cuida", "Ia"), ("veintiuno", "eUo"), ("buey", "E"),
    # hiatus: two strong vowels, or an accented weak one
    ("leo", "Eo"), ("día", "Ia"), ("país", "aI"), ("reír", "eI"), ("aún", "aU"),
    # silent u of qu/gu before e/i, spoken u of gü; silent h; y as consonant/glide/vowel
    ("quince", "Ie"), ("equis", "Ei"), ("guerra", "Ea"), ("pingüino", "iIo"),
    ("ahora", "aOa"), ("hache", "Ae"), ("mayo", "Ao"), ("hoy", "O"), ("muy", "U"),
    ("dieciséis", "eiE"), ("septiembre", "eEe"), ("Uruguay", "uuA"),
])  # fmt: skip
def test_spanish_nuclei_and_stress(word, expected):
    assert spoken(word) == expected


def test_function_monosyllables_are_unstressed_in_running_text():
    assert spoken("la") == "a" and spoken("que") == "e" and spoken("sol") == "O"
    nuclei = text_nuclei("y la casa", rules_for("es"))
    assert [(n.vowel, n.stressed, n.word) for n in nuclei] == [
        ("i", False, 0), ("a", False, 1), ("a", True, 2), ("a", False, 2)]
    # said alone, a function word is stressed (the letter names "a", "e" ...)
    assert [n.stressed for n in text_nuclei("a", rules_for("es"))] == [True]


def test_text_positions_increase_and_punctuation_is_ignored():
    nuclei = text_nuclei("¿Cómo empezó? Pues, hace dos años.", rules_for("es"))
    assert "".join(n.vowel for n in nuclei) == "ooeeoeaeoao"
    positions = [n.position for n in nuclei]
    assert positions == sorted(positions) and 0 < positions[0] < positions[-1] < 1
    assert text_words("¿Cómo empezó?") == ["Cómo", "empezó"]


def test_digits_are_unreadable_and_unknown_languages_have_no_rules():
    with pytest.raises(UnreadableText, match="digits"):
        text_nuclei("tengo 25 años", rules_for("es"))
    assert rules_for("xx") is None and rules_for(None) is None
    assert rules_for("ES") is not None
