"""Train a tokenizer on a corpus, pre-train a small model of a chosen family on the CPU, and embed with it.

Steps: (1) ``ctxemb.tokenization.train_tokenizer`` on the corpus for the family; (2) a small randomly initialised
model from the family's own config class (``ctxemb.testing.tiny_config``); (3) a few minutes of pre-training
with the transformers ``Trainer`` (accelerate underneath): masked LM for encoders, causal LM for GPT-style
decoders (and XLNet's permutation LM head); (4) ``save_pretrained`` and ``ctxemb.Extractor.from_pretrained``.
The loss is measured on the same held-out batches (same masks) before and after training.

Usage (default corpus: gensim's ``head500.noblanks.cor``, ~330k words of text8)::

    .venv/bin/python examples/train_tiny_model.py --family bert --minutes 2.5 --threads 1 --output runs/bert-tiny
    .venv/bin/python examples/train_tiny_model.py --family gpt2 --minutes 2.5 --threads 1 --output runs/gpt2-tiny

On a CPU shared with other work, ``--threads 1`` is several times faster than torch's default thread count.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch
import transformers
from gensim.test.utils import datapath
from transformers import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from ctxemb import Extractor
from ctxemb.testing import SUPPORTED_FAMILIES, tiny_config
from ctxemb.tokenization import TextFile, train_tokenizer

#: The pre-training objective of each family's LM head: masked LM for the encoders, left to right for the decoders
#: (GPT-2, GPT, the decoder LLMs) and XLNet (its LM head).
ENCODERS = ("bert", "roberta", "albert", "deberta", "xlm")
OBJECTIVE = {family: "mlm" if family in ENCODERS else "clm" for family in SUPPORTED_FAMILIES}


class TimeBudget(TrainerCallback):
    """Stop training after ``seconds`` of wall-clock time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() - self.start > self.seconds:
            control.should_training_stop = True
        return control


def blocks(tokenizer, corpus: TextFile, length: int) -> list[dict[str, list[int]]]:
    """Cut the tokenized corpus into blocks of ``length`` pieces, the family's specials included."""
    # The family's single-text template, read off one encoded word: head + pieces + tail.
    bare, full = (tokenizer("word", add_special_tokens=flag)["input_ids"] for flag in (False, True))
    at = next(i for i in range(len(full)) if full[i : i + len(bare)] == bare)
    head, tail = full[:at], full[at + len(bare) :]
    size = length - len(head) - len(tail)
    ids: list[int] = []
    for line in corpus:
        if line.strip():
            ids.extend(tokenizer(line, add_special_tokens=False)["input_ids"])
    return [{"input_ids": head + ids[i : i + size] + tail} for i in range(0, len(ids) - size + 1, size)]


def causal_collate(examples: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
    """Equal-length blocks: no padding, so no pad token is needed (GPT-2 has none); labels are the inputs."""
    ids = torch.tensor([e["input_ids"] for e in examples])
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}


@torch.no_grad()
def held_out_loss(model, batches: list[dict[str, torch.Tensor]]) -> float:
    """Mean loss over fixed batches (the same masks every time)."""
    model.eval()
    losses = [model(**batch).loss.item() for batch in batches]
    model.train()
    return sum(losses) / len(losses)


def main() -> None:
    """Run the four steps and print the loss before and after."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", choices=SUPPORTED_FAMILIES, default="bert")
    parser.add_argument("--corpus", type=Path, default=Path(datapath("head500.noblanks.cor")))
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--vocab-size", type=int, default=4000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--length", type=int, default=64, help="pieces per training block")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--minutes", type=float, default=2.5, help="pre-training time budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is fastest on a busy machine)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()  # the LM head is dropped when the extractor loads the base model
    torch.manual_seed(args.seed)

    corpus = TextFile(args.corpus)
    start = time.perf_counter()
    tokenizer = train_tokenizer(corpus, vocab_size=args.vocab_size, family=args.family)
    print(f"tokenizer: {type(tokenizer).__name__}, {len(tokenizer):,} pieces, {time.perf_counter() - start:.1f} s")

    data = blocks(tokenizer, corpus, args.length)
    held_out, train = data[: 4 * args.batch_size], data[4 * args.batch_size :]
    print(f"corpus: {args.corpus.name}: {len(data):,} blocks of {args.length} pieces ({len(held_out)} held out)")
    counts = Counter(i for block in train for i in block["input_ids"])
    total = sum(counts.values())
    entropy = -sum(c / total * math.log(c / total) for c in counts.values())
    print(f"unigram entropy of the training pieces: {entropy:.3f} (the loss of a model that ignores context)")

    config = tiny_config(
        args.family, tokenizer, hidden=args.hidden, layers=args.layers, heads=args.heads, max_length=args.length
    )
    mlm = OBJECTIVE[args.family] == "mlm"
    model = (AutoModelForMaskedLM if mlm else AutoModelForCausalLM).from_config(config)
    print(f"model: {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters")
    collate = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15) if mlm else causal_collate
    torch.manual_seed(args.seed)  # the held-out masks
    fixed = [collate(held_out[i : i + args.batch_size]) for i in range(0, len(held_out), args.batch_size)]
    before = held_out_loss(model, fixed)
    print(f"held-out loss at start: {before:.3f} (uniform guess: ln {len(tokenizer)} = {math.log(len(tokenizer)):.3f})")

    with tempfile.TemporaryDirectory(prefix="ctxemb-train-") as scratch:
        training = TrainingArguments(
            output_dir=scratch,
            per_device_train_batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            warmup_steps=10,
            weight_decay=0.01,
            num_train_epochs=100,  # the time budget stops it
            logging_steps=10,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            seed=args.seed,
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=training,
            train_dataset=train,
            data_collator=collate,
            callbacks=[TimeBudget(60 * args.minutes)],
        )
        result = trainer.train()
    logged = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    after = held_out_loss(model, fixed)
    print(f"trained {result.global_step} steps in {result.metrics['train_runtime']:.0f} s")
    if logged:
        print(f"training loss: first logged {logged[0]:.3f}, last logged {logged[-1]:.3f}")
    print(f"held-out loss at end: {after:.3f}; drop {before - after:.3f} ({100 * (before - after) / before:.0f}%)")

    model.save_pretrained(args.output)
    tokenizer.save_pretrained(args.output)
    extractor = Extractor.from_pretrained(args.output, device="cpu")
    embedding = extractor.embed(["the anarchist rejected the state"])[0]
    vectors = embedding.word_vectors("mean")
    print(f"saved to {args.output}; Extractor: word vectors (layers, words, dim) = {tuple(vectors.shape)}")


if __name__ == "__main__":
    main()
