"""GloVe (Pennington, Socher & Manning 2014) in torch: weighted least squares on log co-occurrences, AdaGrad."""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import numpy as np
import torch

from ..progress import progress_bar
from ..threads import thread_limit
from .base import StaticModel, check_dim
from .cooccurrence import Context, Weighting, cooccurrence
from .corpus import Corpus, CorpusSource, Vocabulary, as_corpus
from .count import Output
from .io import keyed_vectors

logger = logging.getLogger(__name__)


def glove_weight(x: torch.Tensor, x_max: float = 100.0, alpha: float = 0.75) -> torch.Tensor:
    """GloVe's weighting function ``f(x) = min(1, (x / x_max)^alpha)``, elementwise."""
    return torch.clamp(x / x_max, max=1.0) ** alpha


class Gradients(NamedTuple):
    """GloVe's gradients on a batch, on the rows the batch touches only (each row once).

    Attributes:
        rows: ``(u,)`` distinct word rows ``i`` of the batch, ascending.
        cols: ``(v,)`` distinct context rows ``j``, ascending.
        w: ``(u, dim)`` ``dJ/dw_i``; c: ``(v, dim)`` ``dJ/dc_j``; bw: ``(u,)`` ``dJ/dbw_i``; bc: ``(v,)`` ``dJ/dbc_j``.
    """

    rows: torch.Tensor
    cols: torch.Tensor
    w: torch.Tensor
    c: torch.Tensor
    bw: torch.Tensor
    bc: torch.Tensor


def batch_gradients(
    w: torch.Tensor,
    c: torch.Tensor,
    bw: torch.Tensor,
    bc: torch.Tensor,
    rows: torch.Tensor,
    cols: torch.Tensor,
    log_x: torch.Tensor,
    f_x: torch.Tensor,
) -> tuple[float, Gradients]:
    """GloVe's loss on a batch of nonzero cells and its gradients with respect to every parameter it touches.

    ``J = 1/2 sum_(i,j) f(X_ij) (w_i . c_j + bw_i + bc_j - log X_ij)^2`` (the halved form of GloVe's code), so
    with ``g_ij = f(X_ij) (w_i . c_j + bw_i + bc_j - log X_ij)``: ``dJ/dw_i = sum_j g_ij c_j``,
    ``dJ/dc_j = sum_i g_ij w_i``, ``dJ/dbw_i = sum_j g_ij``, ``dJ/dbc_j = sum_i g_ij`` (sums over the batch).

    Args:
        w, c: ``(words, dim)`` word and context vectors.
        bw, bc: ``(words,)`` word and context biases.
        rows, cols: ``(n,)`` int64 cell coordinates ``(i, j)``.
        log_x, f_x: ``(n,)`` ``log X_ij`` and ``f(X_ij)``.

    Returns:
        ``J`` on the batch and the :class:`Gradients` on the rows it touches (every other row's gradient is 0).
    """
    wi, cj = w[rows], c[cols]
    diff = (wi * cj).sum(dim=1) + bw[rows] + bc[cols] - log_x
    g = f_x * diff
    loss = 0.5 * float((g * diff).sum())
    word_rows, at_row = _distinct(rows, w.shape[0])
    context_rows, at_col = _distinct(cols, c.shape[0])
    dim = w.shape[1]
    gw = torch.zeros(len(word_rows), dim, dtype=w.dtype).index_add_(0, at_row, g[:, None] * cj)
    gc = torch.zeros(len(context_rows), dim, dtype=c.dtype).index_add_(0, at_col, g[:, None] * wi)
    gbw = torch.zeros(len(word_rows), dtype=bw.dtype).index_add_(0, at_row, g)
    gbc = torch.zeros(len(context_rows), dtype=bc.dtype).index_add_(0, at_col, g)
    return loss, Gradients(word_rows, context_rows, gw, gc, gbw, gbc)


def _distinct(index: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct values of ``index`` (ascending) and where each entry sits among them, without sorting."""
    distinct = torch.bincount(index, minlength=size).nonzero().squeeze(1)
    position = torch.empty(size, dtype=torch.int64)
    position[distinct] = torch.arange(len(distinct))
    return distinct, position[index]


def adagrad_step(
    param: torch.Tensor, squares: torch.Tensor, index: torch.Tensor, grad: torch.Tensor, lr: float
) -> None:
    """AdaGrad on the rows ``index`` (distinct): ``S += grad^2``, then ``param -= lr * grad / sqrt(S)``, in place.

    ``squares`` holds ``S``; ``grad`` is the whole batch's gradient of each row (no clipping).
    """
    total = squares[index] + grad * grad
    squares[index] = total
    param[index] -= lr * grad / total.sqrt()


class GloVe(StaticModel):
    """GloVe vectors, trained in torch on minibatches of the nonzero co-occurrence cells.

    Co-occurrences ``X`` are counted with :func:`~ctxemb.static.cooccurrence.cooccurrence` (by default GloVe's:
    symmetric window of 10, harmonic ``1/d`` weights). Each epoch visits every nonzero cell once, in a seeded
    random order, in batches of ``batch_size`` cells, minimising :func:`batch_gradients`'s ``J``. Every parameter
    ``p`` (vector components and biases alike) takes one AdaGrad step per batch that touches it, with ``G`` the
    batch's gradient summed over its cells (:func:`adagrad_step`)::

        S = S + G^2,    p = p - lr * G / sqrt(S),    S starting at 1

    Parameters start uniform in ``[-0.5, 0.5] / dim``. The vectors are ``W + W~`` (``output="w+c"``, the paper's
    choice) or ``W``.

    How this differs from Stanford's ``glove.c`` (read in its current source): ``glove.c`` takes one step per
    cell, on 8 threads without locks (Hogwild), and its step is not the one above. For a vector component, with
    ``g`` the cell's gradient, it takes ``u = eta * clip(g, -100, 100)``, steps ``p = p - u / sqrt(S)`` and then
    adds ``u^2`` to ``S`` (starting at 1): the squares it sums are those of ``eta * g``, so its step is
    ``g / sqrt(1 / eta^2 + sum of the earlier g^2)``, AdaGrad at rate 1 whose sums start at ``1 / eta^2`` (400 for
    its default ``eta = 0.05``). For a bias it steps ``p = p - g / sqrt(S)`` and adds ``g^2``: no ``eta`` and no
    clipping (older versions of the file multiply the bias step by ``eta`` too, and clip nothing). ``eta`` only
    damps ``glove.c``'s first steps; once the sums are large its steps do not depend on it. ``lr`` here is not on
    that scale: it multiplies every step for the whole run (``lr = 1`` would be ``glove.c``'s late steps, taken on
    a batch's summed gradient), and nothing is clipped.

    How the default ``lr=0.5`` was chosen: on gensim's text8 sample (``head500.noblanks.cor``, stemmed; dim 50,
    5 epochs, batch 16,384), first by WordSim-353 among 0.05, 0.5 and 2. A full sweep (``benchmarks/glove_lr_bench.py``,
    figures in ``benchmarks/RESULTS.md``) puts ``lr=1`` higher on WordSim-353 (0.414 against 0.335) and SimLex-999
    (0.158 against 0.125), but those are the sets the static example reports; on the Google analogies, which it does
    not report, 0.5 and 1 are level (0.028 and 0.029), and from 1.5 up scores fall and the final loss rises. So the
    default stays at 0.5, the further from those rates; ``lr=1`` is worth trying on a small corpus.

    Attributes set by :meth:`fit`: ``vectors_``, ``vocabulary_``, ``loss_history_`` (mean ``J`` per cell in each
    epoch), ``cooccurrence_seconds_`` and ``epoch_seconds_`` (time building ``X``, and per epoch).

    Args:
        dim: number of dimensions.
        window: largest distance counted.
        weighting: distance weights (``harmonic`` in GloVe).
        context: ``symmetric | left | right``.
        x_max, alpha: the weighting function ``f`` (see :func:`glove_weight`).
        epochs: passes over the nonzero cells.
        lr: AdaGrad's learning rate (see above: not ``glove.c``'s ``eta``).
        batch_size: cells per update.
        output: ``w+c`` or ``w``.
        min_count: keep words seen at least this often.
        max_vocab: keep at most this many words.
        seed: seeds the initialisation and the order of cells.
        threads: torch intra-op and BLAS threads while training (restored afterwards); ``None`` leaves torch's
            setting. The default, 1, is the fastest measured: each update is a few small gathers and products, which
            more threads only slow down with their hand-offs (2.8x slower with torch's default 2 threads on a
            2-core machine: ``benchmarks/glove_threads_bench.py``, figures in ``benchmarks/RESULTS.md``). It also
            makes a seeded run give the same vectors on any machine.
        progress: progress bar over epochs.
    """

    def __init__(
        self,
        *,
        dim: int = 300,
        window: int = 10,
        weighting: Weighting = "harmonic",
        context: Context = "symmetric",
        x_max: float = 100.0,
        alpha: float = 0.75,
        epochs: int = 25,
        lr: float = 0.5,
        batch_size: int = 16384,
        output: Output = "w+c",
        min_count: int = 5,
        max_vocab: int | None = None,
        seed: int = 0,
        threads: int | None = 1,
        progress: bool | None = None,
    ) -> None:
        self.dim = dim
        self.window = window
        self.weighting = weighting
        self.context = context
        self.x_max = x_max
        self.alpha = alpha
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.output = output
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.seed = seed
        self.threads = threads
        self.progress = progress

    def fit(self, corpus: CorpusSource | Corpus) -> GloVe:
        """Count co-occurrences in ``corpus`` and train."""
        if self.output not in ("w", "w+c"):
            raise ValueError(f"unknown output {self.output!r}; choose 'w' or 'w+c'")
        corpus = as_corpus(corpus, self.progress)  # counting, before the bar over epochs
        start = time.perf_counter()
        vocab = Vocabulary.build(corpus, self.min_count, self.max_vocab)
        check_dim(self.dim, len(vocab), "vocabulary size", corpus, equal=True)
        counts = cooccurrence(vocab.encode(corpus), len(vocab), self.window, self.weighting, self.context).tocoo()
        self.cooccurrence_seconds_ = time.perf_counter() - start
        if counts.nnz == 0:
            raise ValueError(f"corpus {corpus.name}: no two vocabulary words occur within {self.window} words")
        self.vocabulary_ = vocab
        with thread_limit(self.threads):
            self._train(len(vocab), counts.row, counts.col, counts.data)
        return self

    def _train(self, size: int, rows: np.ndarray, cols: np.ndarray, x: np.ndarray) -> None:
        generator = torch.Generator().manual_seed(self.seed)
        dim = self.dim
        w, c = ((torch.rand(size, dim, generator=generator) - 0.5) / dim for _ in range(2))
        bw, bc = ((torch.rand(size, generator=generator) - 0.5) / dim for _ in range(2))
        squares = [torch.ones_like(p) for p in (w, c, bw, bc)]
        rows_t, cols_t = torch.from_numpy(rows.astype(np.int64)), torch.from_numpy(cols.astype(np.int64))
        x_t = torch.from_numpy(x.astype(np.float32))
        log_x, f_x = x_t.log(), glove_weight(x_t, self.x_max, self.alpha)
        n = len(x_t)
        self.loss_history_: list[float] = []
        self.epoch_seconds_: list[float] = []
        for epoch in progress_bar(range(self.epochs), desc="GloVe", unit="epoch", progress=self.progress):
            start = time.perf_counter()
            order = torch.randperm(n, generator=generator)
            total = 0.0
            for a in range(0, n, self.batch_size):
                pick = order[a : a + self.batch_size]
                loss, grad = batch_gradients(w, c, bw, bc, rows_t[pick], cols_t[pick], log_x[pick], f_x[pick])
                total += loss
                adagrad_step(w, squares[0], grad.rows, grad.w, self.lr)
                adagrad_step(c, squares[1], grad.cols, grad.c, self.lr)
                adagrad_step(bw, squares[2], grad.rows, grad.bw, self.lr)
                adagrad_step(bc, squares[3], grad.cols, grad.bc, self.lr)
            self.loss_history_.append(total / n)
            self.epoch_seconds_.append(time.perf_counter() - start)
            logger.info("GloVe epoch %d: mean loss %.5f (%.1f s)", epoch + 1, total / n, self.epoch_seconds_[-1])
        vectors = w + c if self.output == "w+c" else w
        self.vectors_ = keyed_vectors(self.vocabulary_.words, vectors.numpy(), self.vocabulary_.counts)
