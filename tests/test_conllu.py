"""CoNLL-U loader: the official format (multiword tokens, empty nodes, comments) and errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxemb.analysis.conllu import read_conllu

FIXTURE = Path(__file__).parent / "data" / "en_fixture.conllu"


def _surface(sentence) -> list[str]:
    """The surface tokens: a multiword token's FORM in place of its words."""
    starts = {a: (b, form) for a, b, form in sentence.tokens}
    out, i = [], 0
    while i < len(sentence.words):
        if i in starts:
            b, form = starts[i]
            out.append(form)
            i = b + 1
        else:
            out.append(sentence.words[i])
            i += 1
    return out


def test_fixture_sentences_words_and_annotations():
    sentences = read_conllu(FIXTURE)
    assert len(sentences) == 41
    first = sentences[0]
    assert first.sent_id == "fixture-1"
    assert first.text == "I don't like cold coffee."
    assert first.words == ["I", "do", "n't", "like", "cold", "coffee", "."]
    assert first.upos == ["PRON", "AUX", "PART", "VERB", "ADJ", "NOUN", "PUNCT"]
    assert first.lemmas[2] == "not"
    assert first.heads == [4, 4, 4, 0, 6, 4, 4]
    assert first.deprels[3] == "root"
    assert first.tokens == [(1, 2, "don't")]
    assert first.labels("upos") == first.upos
    assert first.line == 1  # a sentence starts at its first comment line
    assert sentences[1].line == 15
    assert sentences[1].heads == [-1] * 7  # HEAD '_'
    gapping = sentences[-1]  # has the empty node 5.1, which is not a word
    assert gapping.words == ["Sue", "likes", "coffee", "and", "Bill", "tea", "."]
    assert gapping.upos[5] == "NOUN"
    assert gapping.heads[5] == 5


def test_every_sentence_rebuilds_its_text():
    for sentence in read_conllu(FIXTURE):
        assert "".join(_surface(sentence)) == sentence.text.replace(" ", ""), sentence.sent_id
        assert len(sentence.words) == len(sentence.upos) == len(sentence.heads) == len(sentence.deprels)


def test_unknown_field_is_an_error():
    with pytest.raises(ValueError, match="unknown CoNLL-U field 'feats'"):
        read_conllu(FIXTURE)[0].labels("feats")  # type: ignore[arg-type]


GOOD = "1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (GOOD + "2 there _ ADV _ _ 1 advmod _ _\n", 3, "expected 10 tab-separated fields"),
        (GOOD + "x\tthere\t_\tADV\t_\t_\t1\tadvmod\t_\t_\n", 3, "bad ID 'x'"),
        (GOOD + "3\tthere\t_\tADV\t_\t_\t1\tadvmod\t_\t_\n", 3, "word ID 3 out of order; expected 2"),
        (GOOD + "2\tthere\t_\tADV\t_\t_\tone\tadvmod\t_\t_\n", 3, "HEAD 'one'"),
        (GOOD + "2\t\t_\tADV\t_\t_\t1\tadvmod\t_\t_\n", 3, "empty FORM"),
        (GOOD + "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n2\tdo\t_\tAUX\t_\t_\t1\taux\t_\t_\n", 3, "reaches past"),
        (GOOD + "3-4\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n", 3, "should start at word 2"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, body, line, message):
    path = tmp_path / "bad.conllu"
    path.write_text("# sent_id = s1\n" + body + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        read_conllu(path)
    assert f"{path}:{line}:" in str(error.value)


def test_files_with_no_sentence_or_bad_bytes(tmp_path):
    empty = tmp_path / "empty.conllu"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no sentence found"):
        read_conllu(empty)
    orphan = tmp_path / "orphan.conllu"
    orphan.write_text(GOOD + "\n# sent_id = s2\n# text = nothing\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{orphan}:3: comments with no word line"):
        read_conllu(orphan)
    latin = tmp_path / "latin.conllu"
    latin.write_bytes(GOOD.encode() + "2\tcaf\xe9\t_\tNOUN\t_\t_\t1\tobj\t_\t_\n".encode("latin-1"))
    with pytest.raises(ValueError, match=rf"{latin}:2: not valid UTF-8"):
        read_conllu(latin)


def test_blank_line_at_end_is_optional_and_crlf_is_read(tmp_path):
    path = tmp_path / "crlf.conllu"
    path.write_bytes((GOOD + "2\tthere\tthere\tADV\t_\t_\t1\tadvmod\t_\t_").replace("\n", "\r\n").encode())
    (sentence,) = read_conllu(path)
    assert sentence.words == ["Hi", "there"]
    assert sentence.deprels == ["root", "advmod"]
