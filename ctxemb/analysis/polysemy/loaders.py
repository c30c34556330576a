"""Readers for sense-labelled data: JSONL, the WiC files, the Raganato et al. WSD framework, the bundled set.

:func:`load_data` picks one from a spec string: ``bundled``, ``wic:DIR``, ``wsd:XML,KEY`` or ``FILE.jsonl``.
Every reader names the file and line (or instance id) of a bad item.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

from ...textlines import read_lines
from .data import Occurrence, Pair, ProbeData, check_occurrences

logger = logging.getLogger("ctxemb")

BUNDLED = "probe_set.jsonl"
WIC_POS = {"N": "NOUN", "V": "VERB"}
_TOKEN = re.compile(r"\S+")


def bundled_path() -> Path:
    """Path of the bundled probe set (``ctxemb/data/polysemy/probe_set.jsonl``)."""
    return Path(str(resources.files("ctxemb") / "data" / "polysemy" / BUNDLED))


def load_bundled() -> ProbeData:
    """The probe set written for ctxemb: 44 ambiguous nouns and verbs, 2-3 senses each, 8 sentences per sense.

    Homonyms (``bank``, ``bat``, ``mole``, ``seal`` ...), regular polysemes (``paper``, ``glass``, ``chicken``)
    and noun/verb pairs (``book``, ``park``, ``watch``); every occurrence carries a ``train``/``test`` split
    (5/3 per sense). Licence: CC0 1.0 (see ``ctxemb/data/polysemy/README.md``).
    """
    data = load_jsonl(bundled_path())
    return ProbeData(data.occurrences, data.pairs, name="bundled")


def load_jsonl(path: str | Path) -> ProbeData:
    """Read occurrences from a JSONL file, one object per line.

    Fields: ``text``; the span as ``start`` and ``end`` (or ``span: [start, end]``), integer character offsets;
    ``word``, which must be the text under the span ignoring case (an inflected form labelled with its lemma,
    ``"word": "run"`` over ``ran``, says so with ``"inflected": true``); ``sense`` (may be null); optional ``pos``
    and ``split`` (``train | dev | test``). Blank lines are skipped, other fields ignored.

    Raises:
        ValueError: naming the file and line of a record that is not UTF-8 or JSON, lacks a field, or whose span
            does not cover its word.
    """
    path = Path(path)
    occurrences = []
    for number, line in read_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not valid JSON ({e.msg})") from None
        if not isinstance(record, dict):
            raise ValueError(f"{where}: expected a JSON object")
        span = record.get("span", (record.get("start"), record.get("end")))
        missing = [k for k in ("text", "word") if not isinstance(record.get(k), str)]
        pair = isinstance(span, (list, tuple)) and len(span) == 2
        if not (pair and all(isinstance(x, int) and not isinstance(x, bool) for x in span)):
            missing.append("start/end (or span) as integers")
        if missing:
            raise ValueError(f"{where}: missing or wrong field(s): {', '.join(missing)}")
        surface = record["text"][span[0] : span[1]]
        if 0 <= span[0] < span[1] <= len(record["text"]) and surface.casefold() != record["word"].casefold():
            if record.get("inflected") is not True:
                raise ValueError(
                    f"{where}: the span ({span[0]}, {span[1]}) covers {surface!r}, not the word "
                    f'{record["word"]!r}; fix the span, or mark an inflected form with "inflected": true'
                )
        sense = record.get("sense")
        occurrences.append(
            Occurrence(
                text=record["text"],
                span=(span[0], span[1]),
                word=record["word"],
                sense=None if sense is None else str(sense),
                pos=record.get("pos"),
                split=record.get("split"),
                source=where,
            )
        )
    check_occurrences(occurrences)
    return ProbeData(tuple(occurrences), name=path.stem)


def _wic_files(directory: Path, part: str) -> tuple[Path, Path] | None:
    """The data and gold files of one WiC part, in ``DIR/part/`` or ``DIR/`` itself."""
    for base in (directory / part, directory):
        data, gold = base / f"{part}.data.txt", base / f"{part}.gold.txt"
        if data.is_file():
            if not gold.is_file():
                logger.warning("WiC %s: %s has no gold file %s; skipped", part, data, gold.name)
                return None
            return data, gold
    return None


def _token_span(sentence: str, index: int, where: str, which: int) -> tuple[int, int]:
    tokens = [m.span() for m in _TOKEN.finditer(sentence)]
    if not 0 <= index < len(tokens):
        raise ValueError(
            f"{where}: index {index} is beyond sentence {which} ({len(tokens)} whitespace tokens): {sentence!r}"
        )
    return tokens[index]


def load_wic(directory: str | Path) -> ProbeData:
    """Read the WiC data set (Pilehvar & Camacho-Collados 2019) from its official files.

    ``DIR`` holds ``train/train.data.txt`` and ``train/train.gold.txt`` (likewise ``dev``, ``test``; the files
    may also lie in ``DIR`` itself). A data line is ``word <tab> PoS <tab> index1-index2 <tab> sentence1 <tab>
    sentence2`` with 0-based indices into the whitespace tokens of each (tokenized) sentence; the gold file has
    ``T`` or ``F`` on the same line. Each line gives two occurrences (no sense labels) and one pair; a part
    without its gold file is skipped with a warning.

    Raises:
        ValueError: naming file and line for a malformed line, an index beyond its sentence, a gold label that is
            not T/F, or files of different lengths; or if ``DIR`` has no WiC file.
    """
    directory = Path(directory)
    occurrences: list[Occurrence] = []
    pairs: list[Pair] = []
    found = False
    for part in ("train", "dev", "test"):
        files = _wic_files(directory, part)
        if files is None:
            continue
        found = True
        data_file, gold_file = files
        lines = [line.rstrip("\r\n") for _, line in read_lines(data_file) if line.strip()]
        gold = [g.strip() for _, g in read_lines(gold_file) if g.strip()]
        if len(lines) != len(gold):
            raise ValueError(f"{data_file} has {len(lines)} lines but {gold_file} has {len(gold)} labels")
        for number, (line, label) in enumerate(zip(lines, gold), start=1):
            where = f"{data_file}:{number}"
            fields = line.split("\t")
            if len(fields) != 5:
                raise ValueError(f"{where}: expected 5 tab-separated fields, got {len(fields)}")
            word, pos, indices, first, second = fields
            match = re.fullmatch(r"(\d+)-(\d+)", indices.strip())
            if match is None:
                raise ValueError(f"{where}: indices {indices!r} are not 'index1-index2'")
            if label not in ("T", "F"):
                raise ValueError(f"{gold_file}:{number}: gold label {label!r} is not T or F")
            for which, (sentence, index) in enumerate(zip((first, second), map(int, match.groups())), start=1):
                span = _token_span(sentence, index, where, which)
                occurrences.append(Occurrence(sentence, span, word, None, WIC_POS.get(pos, pos), part, where))
            pairs.append(Pair(len(occurrences) - 2, len(occurrences) - 1, label == "T", part))
    if not found:
        raise ValueError(f"{directory}: no WiC files (expected train/train.data.txt and train/train.gold.txt)")
    return ProbeData(tuple(occurrences), tuple(pairs), name="wic")


def _read_keys(path: Path) -> dict[str, str]:
    keys = {}
    for number, line in read_lines(path):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise ValueError(f"{path}:{number}: expected 'instance_id sense_key [sense_key ...]'")
        keys[fields[0]] = fields[1]
    return keys


def load_wsd(xml: str | Path, key: str | Path, split: str | None = None) -> ProbeData:
    """Read a corpus of the WSD evaluation framework of Raganato, Camacho-Collados & Navigli (2017).

    The XML has ``<text>`` elements of ``<sentence>`` elements whose children are ``<wf>`` (plain words) and
    ``<instance id lemma pos>`` (targets); the key file has ``instance_id sense_key [sense_key ...]`` per line.
    A sentence's text is its tokens joined by single spaces, so each target's span is exact. An occurrence's
    word is its lemma, its sense the first gold key. SemCor, Senseval-2/3 and SemEval-07/13/15 come in this form.

    Args:
        xml: the ``.data.xml`` file.
        key: the ``.gold.key.txt`` file.
        split: a split for every occurrence (``None``: assigned later, stratified by sense).

    Raises:
        ValueError: for XML that does not parse, or an instance without a gold key (naming its id).
    """
    xml, key = Path(xml), Path(key)
    keys = _read_keys(key)
    try:
        root = ET.parse(xml).getroot()
    except ET.ParseError as e:
        raise ValueError(f"{xml}: not valid XML ({e})") from None
    occurrences = []
    for sentence in root.iter("sentence"):
        tokens, spans, position = [], [], 0
        for child in sentence:
            token = (child.text or "").strip()
            tokens.append(token)
            spans.append((position, position + len(token)))
            position += len(token) + 1
        text = " ".join(tokens)
        for child, span in zip(sentence, spans):
            if child.tag != "instance":
                continue
            ident = child.get("id", "")
            if ident not in keys:
                raise ValueError(f"{xml}: instance {ident!r} has no gold key in {key}")
            lemma = child.get("lemma") or text[span[0] : span[1]].lower()
            occurrences.append(
                Occurrence(text, span, lemma, keys[ident], child.get("pos"), split, f"{xml}: instance {ident}")
            )
    if not occurrences:
        raise ValueError(f"{xml}: no <instance> elements")
    check_occurrences(occurrences)
    return ProbeData(tuple(occurrences), name=xml.name.split(".")[0])


def load_data(spec: str) -> ProbeData:
    """Load probe data from a spec: ``bundled``, ``wic:DIR``, ``wsd:XML,KEY`` or a path to ``FILE.jsonl``.

    Raises:
        ValueError: for a spec of none of these forms (naming it), or the reader's own errors.
    """
    if spec == "bundled":
        return load_bundled()
    if spec.startswith("wic:"):
        return load_wic(spec[4:])
    if spec.startswith("wsd:"):
        parts = spec[4:].split(",")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"data spec {spec!r}: expected wsd:XML,KEY (the .data.xml and the .gold.key.txt)")
        return load_wsd(parts[0], parts[1])
    if spec.endswith(".jsonl"):
        if not Path(spec).is_file():
            raise ValueError(f"data spec {spec!r}: no such file")
        return load_jsonl(spec)
    raise ValueError(f"unknown data spec {spec!r}; use bundled, wic:DIR, wsd:XML,KEY or FILE.jsonl")
