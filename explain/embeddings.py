"""Embeddings: every token id picks one row of the model's input embedding matrix, a vector.

Tokens used in similar ways end up pointing in similar directions, so closeness is measured by
the angle between vectors (cosine similarity). Everything here reads the live model's own matrix
(`get_input_embeddings().weight`, shape (vocab, d_model)) or its own hidden states; nothing is
trained or typed in. Neighbour search is one matrix–vector product against a matrix whose rows
were divided by their length once (`embedding_index`, cached by the app per model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from explain.engine.models import LoadedModel
from explain.tokens import TokenPiece, encode, token_pieces

MAX_WORD_CHARS = 60  # longer "words" are cut: a word list is not a place for paragraphs
MAX_SENTENCE_CHARS = 400


class EmptyWord(ValueError):
    """There is no text to look up (empty or only whitespace)."""


class WordNotFound(ValueError):
    """The shared word does not occur in a sentence."""


# ---------------------------------------------------------------------------------------------
# The matrix and single vectors


@dataclass(frozen=True)
class EmbeddingIndex:
    """The input embedding matrix prepared for cosine search (built once per model).

    It keeps the model's own matrix (a view, no copy: a normalised copy would cost the server
    another 113 MB for SmolLM2) and the reciprocal length of every row, so a cosine search is
    still one matrix–vector product followed by one elementwise scaling.
    """

    model_name: str
    matrix: np.ndarray  # (vocab, d_model) float32: the model's embedding rows (read-only view)
    norms: np.ndarray  # (vocab,) float32: the length of every row

    @property
    def vocab_size(self) -> int:
        return self.matrix.shape[0]

    @property
    def d_model(self) -> int:
        return self.matrix.shape[1]

    @property
    def median_norm(self) -> float:
        return float(np.median(self.norms))


def embedding_matrix(lm: LoadedModel) -> np.ndarray:
    """The model's own input embedding matrix, (vocab, d_model) float32 (read-only: don't mutate)."""
    return lm.model.get_input_embeddings().weight.detach().float().numpy()


def embedding_index(lm: LoadedModel) -> EmbeddingIndex:
    """Measure every row once: afterwards a cosine search is a single matrix–vector product."""
    matrix = embedding_matrix(lm)  # (V, d), shares memory with the model
    norms = np.linalg.norm(matrix, axis=1).astype(np.float32)  # (V,)
    return EmbeddingIndex(model_name=lm.name, matrix=matrix, norms=norms)


@dataclass(frozen=True)
class WordVector:
    """A word as the model sees it: its token pieces and one vector for the whole word.

    A word that is a single token is exactly that token's row. A word split into several pieces
    has no row of its own; we use the MEAN of its pieces' rows (and say so on the page).
    """

    word: str  # what the learner typed (stripped)
    text: str  # what was tokenized: with a leading space when read as in mid-sentence
    ids: list[int]
    pieces: list[TokenPiece]
    vector: np.ndarray  # (d_model,) float32

    @property
    def n_pieces(self) -> int:
        return len(self.ids)

    @property
    def norm(self) -> float:
        return float(np.linalg.norm(self.vector))


def word_vector(lm: LoadedModel, word: str, leading_space: bool = True) -> WordVector:
    """Tokenize `word` (with a leading space when `leading_space`, as a word mid-sentence is) and
    look its pieces up in the embedding matrix. Raises EmptyWord for blank text."""
    word = (word or "").strip()[:MAX_WORD_CHARS].encode("utf-8", "replace").decode("utf-8")
    if not word:
        raise EmptyWord("Type a word: there is nothing to look up yet.")
    text = " " + word if leading_space else word
    ids = encode(lm, text)
    rows = embedding_matrix(lm)[ids]  # (n_pieces, d)
    return WordVector(
        word=word,
        text=text,
        ids=ids,
        pieces=token_pieces(lm, ids),
        vector=rows.mean(axis=0).astype(np.float32),
    )


def prompt_vectors(lm: LoadedModel, ids: list[int]) -> np.ndarray:
    """(T, d_model): the row of every prompt token — the table the first layer receives
    (before any position vector, for models that add one)."""
    return embedding_matrix(lm)[list(ids)].copy()


def parse_word_list(text: str, max_words: int) -> tuple[list[str], int]:
    """Split a comma- or newline-separated list; drop blanks and repeats (case kept).

    Returns (words, n_dropped): at most `max_words` words, and how many were left over.
    """
    words: list[str] = []
    for part in re.split(r"[,\n;]", text or ""):
        word = part.strip()[:MAX_WORD_CHARS]
        if word and word not in words:
            words.append(word)
    return words[:max_words], max(0, len(words) - max_words)


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """cos(angle) between two vectors; 0 when either is the zero vector."""
    denominator = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.dot(u, v) / denominator) if denominator > 0 else 0.0


def angle_degrees(cosines):
    """The angle in degrees for cosine similarities (scalar or array)."""
    return np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))


# ---------------------------------------------------------------------------------------------
# Nearest neighbours


@dataclass(frozen=True)
class ExcludedToken:
    piece: TokenPiece
    similarity: float  # what it would have scored
    reason: str
    role: str = ""  # for an analogy: the input ("a", "b" or "c") it belongs to, else ""
    word: str = ""  # that input word
    other_form: bool = False  # another case or spacing of the input word, not one of its pieces


@dataclass(frozen=True)
class Neighbours:
    """The k tokens whose rows point most nearly the same way as a query vector."""

    pieces: list[TokenPiece]  # most similar first
    similarities: list[float]  # cosine similarity with the query, in [-1, 1]
    angles_deg: list[float]
    excluded: list[ExcludedToken]  # tokens deliberately left out, shown so nothing is hidden

    @property
    def ids(self) -> list[int]:
        return [piece.id for piece in self.pieces]


def similarities_to(index: EmbeddingIndex, vector: np.ndarray) -> np.ndarray:
    """Cosine similarity of `vector` (d_model,) with every token row: (vocab,). One mat-vec."""
    length = float(np.linalg.norm(vector))
    if length == 0:
        raise ValueError("the query vector is all zeros, so it has no direction to compare")
    dots = index.matrix @ (vector.astype(np.float32) / length)  # (V,)
    return dots / np.maximum(index.norms, 1e-12)


def top_k(similarities: np.ndarray, k: int, exclude_ids: tuple[int, ...] = ()) -> list[int]:
    """Ids of the k largest similarities, best first, skipping `exclude_ids`."""
    scores = similarities.copy()
    scores[list(exclude_ids)] = -np.inf
    k = min(k, scores.shape[0] - len(set(exclude_ids)))
    best = np.argpartition(-scores, k - 1)[:k]
    return [int(i) for i in best[np.argsort(-scores[best], kind="stable")]]


def nearest_neighbours(
    lm: LoadedModel,
    index: EmbeddingIndex,
    vector: np.ndarray,
    k: int = 15,
    exclude: dict[int, str] | None = None,
) -> Neighbours:
    """The k nearest tokens to `vector` (d_model,) by cosine similarity over the whole vocabulary.

    `exclude` maps token ids to the reason they are left out (e.g. "the query word itself");
    they come back in `excluded` with the similarity they had.
    """
    exclude = exclude or {}
    sims = similarities_to(index, vector)  # (V,)
    best = top_k(sims, k, tuple(exclude))
    return Neighbours(
        pieces=token_pieces(lm, best),
        similarities=[float(sims[i]) for i in best],
        angles_deg=[float(angle_degrees(sims[i])) for i in best],
        excluded=[
            ExcludedToken(piece=piece, similarity=float(sims[piece.id]), reason=exclude[piece.id])
            for piece in token_pieces(lm, list(exclude))
        ],
    )


def rank_among(index: EmbeddingIndex, vector: np.ndarray, candidate: np.ndarray,
               exclude_ids: tuple[int, ...] = ()) -> tuple[float, int]:
    """Where a candidate vector would stand in `vector`'s neighbour list: (its cosine with
    `vector`, its rank among the vocabulary rows not in `exclude_ids`; 1 = nearer than all)."""
    sims = similarities_to(index, vector)  # (V,)
    sims[list(exclude_ids)] = -np.inf
    similarity = cosine(vector, candidate)
    return similarity, int((sims > similarity + 1e-6).sum()) + 1


# ---------------------------------------------------------------------------------------------
# Many words: angles and a 2-D map


@dataclass(frozen=True)
class SimilarityMatrix:
    labels: list[str]
    cosines: np.ndarray  # (n, n) float64, symmetric, diagonal 1
    angles_deg: np.ndarray  # (n, n)


def similarity_matrix(words: list[WordVector]) -> SimilarityMatrix:
    """Cosine similarity of every pair of words' vectors."""
    vectors = np.stack([w.vector for w in words]).astype(np.float64)  # (n, d)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cosines = np.clip(unit @ unit.T, -1.0, 1.0)  # (n, n)
    return SimilarityMatrix(labels=[w.word for w in words], cosines=cosines, angles_deg=angle_degrees(cosines))


@dataclass(frozen=True)
class Pca:
    mean: np.ndarray  # (d,)
    components: np.ndarray  # (n_components, d) unit directions, largest variance first
    explained_variance_ratio: np.ndarray  # (n_components,) share of the total variance each keeps

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """(m, d) → (m, n_components) coordinates on the principal axes."""
        return (vectors - self.mean) @ self.components.T


def fit_pca(vectors: np.ndarray, n_components: int = 2) -> Pca:
    """Principal component analysis by SVD of the centred data (n, d), n ≥ 2.

    The explained variance ratios sum to at most 1: what is missing is what the map cannot show.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.shape[0] < 2:
        raise ValueError("a map needs at least two words")
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)  # vt: (min(n, d), d)
    variance = singular**2
    total = variance.sum()
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    components = np.zeros((n_components, x.shape[1]))
    kept = min(n_components, vt.shape[0])
    components[:kept] = vt[:kept]
    ratios = np.zeros(n_components)
    ratios[:kept] = ratio[:kept]
    return Pca(mean=mean, components=components, explained_variance_ratio=ratios)


@dataclass(frozen=True)
class WordMap:
    """The chosen words on the plane of their two largest directions of variance."""

    labels: list[str]
    coords: np.ndarray  # (n, 2)
    explained_variance_ratio: np.ndarray  # (2,) of the chosen words' variance
    background_pieces: list[TokenPiece]
    background_coords: np.ndarray  # (m, 2) context tokens projected on the same plane


def word_map(words: list[WordVector], background: list[TokenPiece], matrix: np.ndarray) -> WordMap:
    """Fit PCA on the chosen words only (so the map separates them best), then project the
    background tokens (`matrix` rows of their ids, (vocab, d)) onto the same two axes."""
    pca = fit_pca(np.stack([w.vector for w in words]))
    back = pca.project(matrix[[p.id for p in background]]) if background else np.zeros((0, 2))
    return WordMap(
        labels=[w.word for w in words],
        coords=pca.project(np.stack([w.vector for w in words])),
        explained_variance_ratio=pca.explained_variance_ratio,
        background_pieces=background,
        background_coords=back,
    )


def common_word_ids(lm: LoadedModel, n: int) -> list[int]:
    """About `n` common whole-word tokens for a map's background.

    BPE learns its merges most-frequent-first, so low ids are roughly the most common tokens; we
    take the first `n` whose text is a space followed by at least three ASCII letters.
    """
    found: list[int] = []
    size = min(len(lm.tokenizer), embedding_matrix(lm).shape[0])
    for start in range(0, size, 512):
        for piece in token_pieces(lm, list(range(start, min(size, start + 512))), start):
            word = piece.text[1:]
            if piece.text.startswith(" ") and len(word) >= 3 and word.isascii() and word.isalpha():
                found.append(piece.id)
                if len(found) == n:
                    return found
    return found


# ---------------------------------------------------------------------------------------------
# Analogy arithmetic


@dataclass(frozen=True)
class Analogy:
    """a − b + c, and the tokens nearest to the result once the three inputs are left out."""

    a: WordVector
    b: WordVector
    c: WordVector
    result: np.ndarray  # (d,)
    neighbours: Neighbours
    target: WordVector | None
    target_similarity: float | None
    target_rank: int | None  # 1 = the nearest token that is not an input


def word_forms(lm: LoadedModel, word: str) -> list[int]:
    """Ids of the single tokens that are `word` with another case or with/without a leading space
    ("Paris" → ' Paris', 'Paris', ' paris', 'PARIS', … whichever are one token in the vocabulary)."""
    bare = word.strip()
    cases = {bare, bare.lower(), bare.upper(), bare[:1].upper() + bare[1:], bare.title()}
    found: list[int] = []
    for text in sorted(cases) + sorted(" " + case for case in cases):
        ids = encode(lm, text)
        if len(ids) == 1 and ids[0] not in found:
            found.append(ids[0])
    return found


def analogy(
    lm: LoadedModel,
    index: EmbeddingIndex,
    a: WordVector,
    b: WordVector,
    c: WordVector,
    k: int = 10,
    target: WordVector | None = None,
) -> Analogy:
    """Nearest tokens to a − b + c, excluding every piece of the three inputs and every single
    token that is an input word in another case or with/without its leading space (`word_forms`);
    the excluded tokens are listed, not hidden.

    With a `target` word, also where it lands: its cosine with the result and its rank among
    the tokens that are not excluded.
    """
    result = a.vector - b.vector + c.vector  # (d,)
    exclude: dict[int, str] = {}
    for role, word in (("a", a), ("b", b), ("c", c)):
        for token_id in word.ids:
            exclude.setdefault(token_id, f"input {role} ({word.word})")
    for role, word in (("a", a), ("b", b), ("c", c)):
        for token_id in word_forms(lm, word.word):
            exclude.setdefault(token_id, f"another form of input {role} ({word.word})")
    neighbours = nearest_neighbours(lm, index, result, k, exclude)
    neighbours = replace(neighbours, excluded=[_with_role(e, (a, b, c)) for e in neighbours.excluded])
    target_similarity = target_rank = None
    if target is not None:
        sims = similarities_to(index, result)
        sims[list(exclude)] = -np.inf
        target_similarity = cosine(result, target.vector)
        target_rank = int((sims > target_similarity + 1e-6).sum()) + 1
    return Analogy(a, b, c, result, neighbours, target, target_similarity, target_rank)


def _with_role(excluded: ExcludedToken, inputs: tuple[WordVector, ...]) -> ExcludedToken:
    """The analogy input an excluded token belongs to, as fields (so a page can word it)."""
    for role, word in zip("abc", inputs):
        if excluded.piece.id in word.ids:
            return replace(excluded, role=role, word=word.word)
    for role, word in zip("abc", inputs):
        if excluded.reason == f"another form of input {role} ({word.word})":
            return replace(excluded, role=role, word=word.word, other_form=True)
    return excluded


def closest_and_farthest(matrix: SimilarityMatrix) -> tuple[tuple[int, int], tuple[int, int]]:
    """The most and the least similar pair of different words (index pairs, i < j); n ≥ 2."""
    n = len(matrix.labels)
    rows, cols = np.triu_indices(n, k=1)
    values = matrix.cosines[rows, cols]
    best, worst = int(values.argmax()), int(values.argmin())
    return (int(rows[best]), int(cols[best])), (int(rows[worst]), int(cols[worst]))


# ---------------------------------------------------------------------------------------------
# Same word, two contexts


@dataclass(frozen=True)
class WordInSentence:
    sentence: str
    ids: list[int]  # the whole sentence's tokens
    pieces: list[TokenPiece]
    positions: list[int]  # the token positions that cover the word (first occurrence)
    found: str  # the word as written in the sentence


def locate_word(lm: LoadedModel, sentence: str, word: str) -> WordInSentence:
    """Tokenize `sentence` and find the tokens that cover the first whole-word, case-insensitive
    occurrence of `word`, using the tokenizer's own character offsets (so words split into
    several pieces, or written with another case, are found too). Raises WordNotFound/EmptyWord."""
    word = (word or "").strip()
    sentence = (sentence or "").strip()[:MAX_SENTENCE_CHARS].encode("utf-8", "replace").decode("utf-8")
    if not word or not sentence:
        raise EmptyWord("Type two sentences and the word they share.")
    match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", sentence, flags=re.IGNORECASE)
    if match is None:
        raise WordNotFound(f"“{word}” does not appear as a whole word in “{sentence}”.")
    with lm.tokenizer_lock:
        encoded = lm.tokenizer(sentence, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    positions = [
        i for i, (start, end) in enumerate(encoded["offset_mapping"])
        if start < match.end() and end > match.start()  # the token's characters overlap the word
    ]
    return WordInSentence(
        sentence=sentence, ids=ids, pieces=token_pieces(lm, ids), positions=positions, found=match.group(0)
    )


@dataclass(frozen=True)
class ContextDrift:
    """How similar one word's vectors are in two sentences, layer by layer.

    Index 0 is the model's first hidden state (the input embeddings, plus learned positions in
    GPT-2-style models); index l is the output of layer l. A word of several pieces is the mean of
    its pieces' vectors, as elsewhere on the page.
    """

    a: WordInSentence
    b: WordInSentence
    similarities: np.ndarray  # (n_layer + 1,) cosine between the word's vectors in A and in B
    baseline: np.ndarray  # (n_layer + 1,) mean cosine between the word in A and B's other tokens
    input_similarity: float  # cosine of the word's input embedding rows (1 when split alike)

    @property
    def same_pieces(self) -> bool:
        return [self.a.ids[i] for i in self.a.positions] == [self.b.ids[i] for i in self.b.positions]


def context_drift(
    lm: LoadedModel,
    a: WordInSentence,
    b: WordInSentence,
    hidden_a: np.ndarray,
    hidden_b: np.ndarray,
) -> ContextDrift:
    """hidden_a: (n_layer + 1, T_a, d), hidden_b: (n_layer + 1, T_b, d) — the model's own
    `output_hidden_states` for sentences a and b (see explain.engine.analysis.analyze_prompt)."""
    word_a = hidden_a[:, a.positions].astype(np.float64).mean(axis=1)  # (L+1, d)
    word_b = hidden_b[:, b.positions].astype(np.float64).mean(axis=1)  # (L+1, d)
    similarities = np.array([cosine(x, y) for x, y in zip(word_a, word_b)])
    others = [i for i in range(len(b.ids)) if i not in b.positions]
    baseline = np.array([
        np.mean([cosine(word_a[layer], hidden_b[layer, i]) for i in others]) if others else np.nan
        for layer in range(hidden_a.shape[0])
    ])
    matrix = embedding_matrix(lm)
    input_similarity = cosine(
        matrix[[a.ids[i] for i in a.positions]].mean(axis=0), matrix[[b.ids[i] for i in b.positions]].mean(axis=0)
    )
    return ContextDrift(a=a, b=b, similarities=similarities, baseline=baseline, input_similarity=input_similarity)



RISE_TOLERANCE = 0.02  # a rise in cosine smaller than this is read as no rise at all


@dataclass(frozen=True)
class CurveSummary:
    """What a similarity curve over the layers does, in numbers a sentence can quote."""

    start: float  # index 0
    lowest_index: int
    lowest: float
    final: float  # the last index
    rise: tuple[int, int] | None  # (i, j), i < j: the largest increase values[j] − values[i], if > tolerance
    rise_values: tuple[float, float] | None  # (values[i], values[j]) for that rise


def summarize_curve(values: np.ndarray, tolerance: float = RISE_TOLERANCE) -> CurveSummary:
    """values: (n,) e.g. `ContextDrift.similarities`. The lowest point, the final value and the
    largest rise anywhere (from a point to any later one), so no shape is assumed."""
    values = np.asarray(values, dtype=np.float64)
    best, low_at, rise = 0.0, 0, None
    for j in range(1, len(values)):  # running minimum: the best rise ending at j starts at low_at
        if values[j - 1] < values[low_at]:
            low_at = j - 1
        if values[j] - values[low_at] > max(best, tolerance):
            best, rise = values[j] - values[low_at], (low_at, j)
    lowest = int(np.argmin(values))
    rise_values = None if rise is None else (float(values[rise[0]]), float(values[rise[1]]))
    return CurveSummary(float(values[0]), lowest, float(values[lowest]), float(values[-1]), rise, rise_values)
