"""explain.embeddings and explain.positions against independent references: torch on the model's
own weights, transformers' `output_hidden_states`, scikit-learn's PCA, and the 2017 formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from explain import embeddings as emb
from explain import positions
from explain.tokens import encode, token_pieces

PRESET = ["king", "queen", "man", "woman", "apple", "banana", "Paris", "France", "London"]


@pytest.fixture(scope="module")
def index(lm):
    return emb.embedding_index(lm)


@pytest.fixture(scope="module")
def weight(lm) -> torch.Tensor:
    """The reference: the model's own input embedding matrix as a torch tensor."""
    return lm.model.get_input_embeddings().weight.detach().float()


def torch_cosines(weight: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(weight, query[None, :], dim=1)


def assert_valid_top_k(got: list[int], reference: torch.Tensor, excluded: set[int] = frozenset(), tie: float = 1e-5):
    """`got` is a top-k of `reference` (vocab,): distinct, best first, and no other token that is
    not excluded scores higher (near-ties from float rounding may swap places)."""
    assert len(set(got)) == len(got) and not set(got) & set(excluded)
    scores = reference[got].numpy()
    assert np.all(np.diff(scores) <= tie)
    others = torch.ones_like(reference, dtype=torch.bool)
    others[list(got) + list(excluded)] = False
    assert float(reference[others].max()) <= scores.min() + tie


# --- vectors -----------------------------------------------------------------------------------


def test_a_single_token_word_is_exactly_its_row(lm, weight):
    word = emb.word_vector(lm, "king")
    assert word.text == " king" and word.ids == encode(lm, " king") and word.n_pieces == 1
    assert word.vector.shape == (lm.config.hidden_size,)
    np.testing.assert_array_equal(word.vector, weight[word.ids[0]].numpy())
    assert word.norm == pytest.approx(float(weight[word.ids[0]].norm()), rel=1e-5)


def test_a_word_of_several_pieces_is_the_mean_of_its_rows(lm, weight):
    word = emb.word_vector(lm, "unbelievable", leading_space=False)
    assert word.ids == encode(lm, "unbelievable") and word.n_pieces == 3
    assert [p.id for p in word.pieces] == word.ids
    np.testing.assert_allclose(word.vector, weight[word.ids].mean(dim=0).numpy(), rtol=1e-6, atol=1e-7)


def test_leading_space_changes_the_token(lm):
    assert emb.word_vector(lm, "king", leading_space=False).ids != emb.word_vector(lm, "king").ids


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_blank_word_is_refused_with_a_message(lm, blank):
    with pytest.raises(emb.EmptyWord, match="Type a word"):
        emb.word_vector(lm, blank)


@pytest.mark.parametrize("odd", ["🍕", "東京", "שלום", "<script>alert(1)</script>", "x" * 500])
def test_odd_words_still_give_a_vector(lm, odd):
    word = emb.word_vector(lm, odd)
    assert word.n_pieces >= 1 and np.isfinite(word.vector).all()
    assert len(word.word) <= emb.MAX_WORD_CHARS


def test_prompt_vectors_are_what_the_first_layer_receives(lm):
    from explain.engine.analysis import analyze_prompt

    ids = encode(lm, "The capital of France is")
    vectors = emb.prompt_vectors(lm, ids)
    assert vectors.shape == (5, lm.config.hidden_size)
    np.testing.assert_array_equal(vectors, analyze_prompt(lm, ids).hidden_states[0])


def test_word_list_parsing_drops_blanks_and_repeats_and_caps():
    words, dropped = emb.parse_word_list(" king, queen,,king\nParis ; ", 50)
    assert words == ["king", "queen", "Paris"] and dropped == 0
    words, dropped = emb.parse_word_list(",".join(f"w{i}" for i in range(60)), 50)
    assert len(words) == 50 and dropped == 10
    assert emb.parse_word_list("", 50) == ([], 0)


# --- neighbours --------------------------------------------------------------------------------


def test_index_shares_the_models_matrix_and_norms_are_the_rows_lengths(index, weight):
    assert index.matrix.shape == tuple(weight.shape)
    assert np.shares_memory(index.matrix, weight.numpy())  # no second 113 MB copy on the server
    np.testing.assert_allclose(index.norms, weight.norm(dim=1).numpy(), rtol=1e-5)
    assert index.median_norm == pytest.approx(float(weight.norm(dim=1).median()), rel=1e-3)


@pytest.mark.parametrize("text", ["king", "Paris", "unbelievable"])
def test_neighbours_equal_torch_cosine_top_k(lm, index, weight, text):
    word = emb.word_vector(lm, text)
    got = emb.nearest_neighbours(lm, index, word.vector, k=15)
    reference = torch_cosines(weight, torch.from_numpy(word.vector))
    values, ids = torch.topk(reference, 15)
    np.testing.assert_allclose(got.similarities, values.numpy(), atol=1e-5)
    np.testing.assert_allclose(got.similarities, reference[got.ids].numpy(), atol=1e-5)
    assert_valid_top_k(got.ids, reference)
    assert got.ids[:3] == ids.tolist()[:3]
    np.testing.assert_allclose(got.angles_deg, np.degrees(np.arccos(values.clamp(-1, 1).numpy())), atol=0.05)
    assert got.excluded == []
    assert [p.text for p in got.pieces] == [lm.tokenizer.decode([i]) for i in got.ids]


def test_a_word_is_its_own_nearest_neighbour_with_similarity_one(lm, index):
    word = emb.word_vector(lm, "king")
    got = emb.nearest_neighbours(lm, index, word.vector, k=10)
    assert got.ids[0] == word.ids[0]
    assert got.similarities[0] == pytest.approx(1.0, abs=1e-5) and got.angles_deg[0] < 0.3


def test_excluding_the_query_is_reported_not_silent(lm, index, weight):
    word = emb.word_vector(lm, "king")
    full = emb.nearest_neighbours(lm, index, word.vector, k=11)
    got = emb.nearest_neighbours(lm, index, word.vector, k=10, exclude={word.ids[0]: "the query word itself"})
    assert got.ids == full.ids[1:]  # nothing else went missing
    [left_out] = got.excluded
    assert left_out.piece.id == word.ids[0] and left_out.reason == "the query word itself"
    assert left_out.similarity == pytest.approx(1.0, abs=1e-5)


def test_a_zero_vector_is_refused(index):
    with pytest.raises(ValueError, match="all zeros"):
        emb.similarities_to(index, np.zeros(index.d_model, dtype=np.float32))


# --- angle matrix and map ----------------------------------------------------------------------


def test_similarity_matrix_equals_torch_and_has_ones_on_the_diagonal(lm, weight):
    words = [emb.word_vector(lm, w) for w in PRESET]
    matrix = emb.similarity_matrix(words)
    vectors = torch.stack([torch.from_numpy(w.vector).double() for w in words])
    reference = torch.nn.functional.cosine_similarity(vectors[:, None], vectors[None, :], dim=2).numpy()
    np.testing.assert_allclose(matrix.cosines, reference, atol=1e-9)
    np.testing.assert_allclose(np.diag(matrix.cosines), 1.0, atol=1e-12)
    np.testing.assert_allclose(matrix.cosines, matrix.cosines.T)
    np.testing.assert_allclose(matrix.angles_deg, np.degrees(np.arccos(np.clip(reference, -1, 1))), atol=1e-3)
    # the teaching claim the page's preset rests on: related pairs are closer than unrelated ones
    c = dict(zip(PRESET, matrix.cosines))
    assert c["king"][PRESET.index("queen")] > c["king"][PRESET.index("banana")]
    assert c["apple"][PRESET.index("banana")] > c["apple"][PRESET.index("London")]


@pytest.mark.parametrize("n_words", [3, 9, 50])
def test_pca_matches_scikit_learn_up_to_sign(n_words):
    rng = np.random.default_rng(n_words)
    x = rng.normal(size=(n_words, 64)) * np.linspace(3, 0.1, 64)
    ours = emb.fit_pca(x)
    reference = PCA(n_components=2, svd_solver="full").fit(x)
    coords, expected = ours.project(x), reference.transform(x)
    for axis in range(2):
        sign = np.sign(coords[:, axis] @ expected[:, axis])
        np.testing.assert_allclose(coords[:, axis] * sign, expected[:, axis], atol=1e-9)
    np.testing.assert_allclose(ours.explained_variance_ratio, reference.explained_variance_ratio_, atol=1e-12)
    assert ours.explained_variance_ratio.sum() <= 1 + 1e-12


def test_word_map_of_the_preset_matches_scikit_learn_and_projects_the_background(lm):
    words = [emb.word_vector(lm, w) for w in PRESET]
    background = token_pieces(lm, emb.common_word_ids(lm, 50))
    matrix = emb.embedding_matrix(lm)
    word_map = emb.word_map(words, background, matrix)
    x = np.stack([w.vector for w in words]).astype(np.float64)
    reference = PCA(n_components=2).fit(x)
    expected = reference.transform(x)
    signs = np.sign(np.sum(word_map.coords * expected, axis=0))
    np.testing.assert_allclose(word_map.coords * signs, expected, atol=1e-5)
    np.testing.assert_allclose(word_map.explained_variance_ratio, reference.explained_variance_ratio_, atol=1e-6)
    assert 0 < word_map.explained_variance_ratio.sum() <= 1
    expected_back = reference.transform(matrix[[p.id for p in background]].astype(np.float64))
    np.testing.assert_allclose(word_map.background_coords * signs, expected_back, atol=1e-4)
    assert len(background) == 50
    assert all(p.text.startswith(" ") and p.text[1:].isalpha() for p in background)


def test_two_words_make_a_line_and_one_word_no_map(lm):
    two = emb.fit_pca(np.stack([emb.word_vector(lm, w).vector for w in ("king", "queen")]))
    assert two.explained_variance_ratio[0] == pytest.approx(1.0) and two.explained_variance_ratio[1] < 1e-12
    with pytest.raises(ValueError, match="at least two"):
        emb.fit_pca(np.ones((1, 8)))


# --- analogy -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vocab_texts(lm) -> list[str]:
    """Every token of the vocabulary decoded on its own (the reference for 'forms of a word')."""
    return lm.tokenizer.batch_decode([[i] for i in range(len(lm.tokenizer))])


def vocabulary_forms(texts: list[str], word: str) -> set[int]:
    """Every token whose text is `word` up to case and one leading space (a full scan)."""
    return {i for i, t in enumerate(texts) if (t[1:] if t.startswith(" ") else t).casefold() == word.casefold()}


def test_analogy_is_a_minus_b_plus_c_with_inputs_left_out_and_listed(lm, index, weight, vocab_texts):
    a, b, c = (emb.word_vector(lm, w) for w in ("king", "man", "woman"))
    target = emb.word_vector(lm, "queen")
    got = emb.analogy(lm, index, a, b, c, k=10, target=target)
    result = weight[a.ids[0]] - weight[b.ids[0]] + weight[c.ids[0]]
    np.testing.assert_allclose(got.result, result.numpy(), atol=1e-6)
    sims = torch_cosines(weight, result)
    inputs = {a.ids[0], b.ids[0], c.ids[0]} | set().union(*(vocabulary_forms(vocab_texts, w) for w in ("king", "man", "woman")))
    order = [int(i) for i in torch.argsort(sims, descending=True) if int(i) not in inputs][:10]
    assert_valid_top_k(got.neighbours.ids, sims, inputs)
    np.testing.assert_allclose(got.neighbours.similarities, sims[order].numpy(), atol=1e-5)
    assert {e.piece.id for e in got.neighbours.excluded} == inputs
    for e in got.neighbours.excluded:
        assert e.similarity == pytest.approx(float(sims[e.piece.id]), abs=1e-5)
    expected_rank = 1 + sum(1 for i in range(len(sims)) if i not in inputs and sims[i] > sims[target.ids[0]] + 1e-6)
    assert got.target_rank == expected_rank
    assert got.target_similarity == pytest.approx(float(sims[target.ids[0]]), abs=1e-5)


def test_analogy_leaves_out_other_cases_and_spacings_of_its_inputs(lm, index, weight, vocab_texts):
    words = ("Paris", "France", "Italy")
    a, b, c = (emb.word_vector(lm, w) for w in words)
    got = emb.analogy(lm, index, a, b, c, k=10)
    forms = set().union(*(vocabulary_forms(vocab_texts, w) for w in words))
    assert {lm.tokenizer.decode([i]) for i in forms} >= {"Paris", " Paris", "Italy", " Italy"}
    assert not forms & set(got.neighbours.ids)  # no 'Italy', 'Paris' (no-space) variant comes back
    assert forms <= {e.piece.id for e in got.neighbours.excluded}
    assert any(e.reason.startswith("another form of input c") for e in got.neighbours.excluded)
    # and the rest is still the plain top-k of torch's cosine, with those forms left out
    result = weight[a.ids[0]] - weight[b.ids[0]] + weight[c.ids[0]]
    assert_valid_top_k(got.neighbours.ids, torch_cosines(weight, result), forms | {a.ids[0], b.ids[0], c.ids[0]})


@pytest.mark.parametrize("word", ["king", "man", "woman", "queen"])
def test_word_forms_are_exactly_the_single_token_variants_in_the_vocabulary(lm, word, vocab_texts):
    assert set(emb.word_forms(lm, word)) == vocabulary_forms(vocab_texts, word)


def test_analogy_without_target_has_no_rank(lm, index):
    a, b, c = (emb.word_vector(lm, w) for w in ("Paris", "France", "Italy"))
    got = emb.analogy(lm, index, a, b, c)
    assert got.target is None and got.target_rank is None and len(got.neighbours.ids) == 10


# --- same word, two contexts -------------------------------------------------------------------

RIVER = "I sat on the river bank and watched the water."
MONEY = "I went to the bank to deposit my money."


def test_locate_word_uses_the_tokenizers_offsets(lm):
    found = emb.locate_word(lm, RIVER, "bank")
    assert found.ids == encode(lm, RIVER)
    assert [found.pieces[i].text for i in found.positions] == [" bank"]
    capital = emb.locate_word(lm, "Bank holidays are nice.", "bank")
    assert capital.found == "Bank" and capital.positions == [0]
    split = emb.locate_word(lm, "That was unbelievable, really.", "unbelievable")
    assert "".join(split.pieces[i].text for i in split.positions).strip() == "unbelievable"
    assert len(split.positions) == 2


def test_locate_word_matches_whole_words_only(lm):
    with pytest.raises(emb.WordNotFound):
        emb.locate_word(lm, "The banker smiled.", "bank")
    with pytest.raises(emb.EmptyWord):
        emb.locate_word(lm, "   ", "bank")


def test_context_drift_uses_the_models_own_hidden_states(lm, weight):
    a, b = emb.locate_word(lm, RIVER, "bank"), emb.locate_word(lm, MONEY, "bank")
    with torch.inference_mode():  # the reference: transformers' own output_hidden_states
        hidden_a = torch.stack(lm.model(torch.tensor([a.ids]), output_hidden_states=True).hidden_states)[:, 0]
        hidden_b = torch.stack(lm.model(torch.tensor([b.ids]), output_hidden_states=True).hidden_states)[:, 0]
    drift = emb.context_drift(lm, a, b, hidden_a.numpy(), hidden_b.numpy())
    expected = torch.nn.functional.cosine_similarity(hidden_a[:, a.positions[0]], hidden_b[:, b.positions[0]], dim=1)
    assert drift.similarities.shape == (lm.config.num_hidden_layers + 1,)
    np.testing.assert_allclose(drift.similarities, expected.numpy(), atol=1e-4)
    # layer 0 is the input embedding (SmolLM2 adds no position vector): identical rows, cosine 1
    assert drift.same_pieces and drift.input_similarity == pytest.approx(1.0, abs=1e-6)
    assert drift.similarities[0] == pytest.approx(drift.input_similarity, abs=1e-5)
    np.testing.assert_allclose(hidden_a[0, a.positions[0]].numpy(), weight[a.ids[a.positions[0]]].numpy())
    # the lesson itself: the two meanings end up clearly apart
    assert drift.similarities[-1] < 0.8
    others = [i for i in range(len(b.ids)) if i != b.positions[0]]
    baseline = [
        np.mean([float(torch.nn.functional.cosine_similarity(hidden_a[layer, a.positions[0]], hidden_b[layer, i], dim=0))
                 for i in others])
        for layer in range(hidden_a.shape[0])
    ]
    np.testing.assert_allclose(drift.baseline, baseline, atol=1e-4)


def brute_force_rise(values, tolerance):
    """The largest values[j] − values[i] over all i < j, by trying every pair (None if ≤ tolerance)."""
    pairs = [(values[j] - values[i], i, j) for i in range(len(values)) for j in range(i + 1, len(values))]
    best = max(pairs, key=lambda p: (p[0], -p[1], -p[2]))
    return (best[1], best[2]) if best[0] > tolerance else None


@pytest.mark.parametrize("seed", range(6))
def test_curve_summary_equals_brute_force(seed):
    values = np.random.default_rng(seed).random(12)
    got = emb.summarize_curve(values)
    assert got.lowest_index == int(np.argmin(values)) and got.lowest == values.min()
    assert got.start == values[0] and got.final == values[-1]
    expected = brute_force_rise(values, emb.RISE_TOLERANCE)
    assert got.rise is not None and values[got.rise[1]] - values[got.rise[0]] == pytest.approx(
        values[expected[1]] - values[expected[0]]
    )


def test_a_falling_curve_has_no_rise_and_the_bank_curve_does(lm):
    assert emb.summarize_curve(np.linspace(1, 0.5, 31)).rise is None
    assert emb.summarize_curve([1.0, 0.9, 0.91, 0.8]).rise is None  # +0.01 is below the tolerance
    a, b = emb.locate_word(lm, RIVER, "bank"), emb.locate_word(lm, MONEY, "bank")
    from explain.engine.analysis import analyze_prompt

    values = emb.context_drift(
        lm, a, b, analyze_prompt(lm, a.ids).hidden_states, analyze_prompt(lm, b.ids).hidden_states
    ).similarities
    got = emb.summarize_curve(values)
    assert got.rise == brute_force_rise(values, emb.RISE_TOLERANCE)
    assert np.any(np.diff(values) > 0)  # not monotone: "drifts apart layer by layer" would be false


def test_a_word_split_differently_is_flagged(lm):
    from explain.engine.analysis import analyze_prompt

    a = emb.locate_word(lm, "Bank holidays are nice.", "bank")
    b = emb.locate_word(lm, MONEY, "bank")
    drift = emb.context_drift(
        lm, a, b, analyze_prompt(lm, a.ids).hidden_states, analyze_prompt(lm, b.ids).hidden_states
    )
    assert not drift.same_pieces and drift.input_similarity < 0.99
    assert drift.similarities[0] == pytest.approx(drift.input_similarity, abs=1e-5)


# --- positions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("d_model", [16, 17, 512])
def test_sinusoids_follow_attention_is_all_you_need(d_model):
    table = positions.sinusoidal_encoding(50, d_model)
    assert table.shape == (50, d_model)
    for pos in (0, 1, 7, 49):
        for i in range(d_model):
            angle = pos / 10000 ** ((i - i % 2) / d_model)
            expected = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert table[pos, i] == pytest.approx(expected, abs=1e-12)
    assert np.all(table[0, 0::2] == 0) and np.all(table[0, 1::2] == 1)


def test_smollm2_is_read_as_rotary_from_its_config(lm):
    scheme = positions.position_scheme(lm)
    assert scheme.kind == "rotary" and scheme.learned is None
    assert scheme.rope_theta == lm.config.rope_parameters["rope_theta"]
    assert scheme.max_positions == lm.config.max_position_embeddings
    assert "rotary" in scheme.statement and "100,000" in scheme.statement


def test_gpt2_is_read_as_learned_absolute_from_its_wpe(tiny_gpt2):
    scheme = positions.position_scheme(tiny_gpt2)
    assert scheme.kind == "learned absolute" and scheme.rope_theta is None
    np.testing.assert_array_equal(scheme.learned, tiny_gpt2.model.transformer.wpe.weight.detach().numpy())
    assert scheme.learned.shape == (64, 32) and scheme.max_positions == 64
    assert "wpe" in scheme.statement and "64 positions" in scheme.statement


def test_the_scheme_follows_the_config_not_the_name(tiny_gpt2):
    from transformers import LlamaConfig, LlamaForCausalLM

    from explain.engine.models import LoadedModel

    config = LlamaConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=128, rope_parameters={"rope_type": "default", "rope_theta": 500.0},
    )
    fake = LoadedModel(name="gpt2", model=LlamaForCausalLM(config), tokenizer=None, source="random", load_seconds=0)
    scheme = positions.position_scheme(fake)
    assert scheme.kind == "rotary" and scheme.rope_theta == 500.0 and scheme.max_positions == 128
    renamed = LoadedModel(name="SmolLM2", model=tiny_gpt2.model, tokenizer=None, source="random", load_seconds=0)
    assert positions.position_scheme(renamed).kind == "learned absolute"


def test_rank_among_counts_the_rows_torch_puts_nearer(lm, index, weight):
    king, queen = emb.word_vector(lm, "king", True), emb.word_vector(lm, "queen", True)
    similarity, rank = emb.rank_among(index, king.vector, queen.vector, tuple(king.ids))
    sims = torch_cosines(weight, torch.from_numpy(king.vector))
    sims[king.ids] = -2.0
    reference = torch.nn.functional.cosine_similarity(torch.from_numpy(king.vector)[None], torch.from_numpy(queen.vector)[None])
    assert similarity == pytest.approx(float(reference), abs=1e-5)
    assert rank == int((sims > similarity + 1e-6).sum()) + 1
    top = emb.nearest_neighbours(lm, index, king.vector, 1, dict.fromkeys(king.ids, ""))
    nearest = torch.from_numpy(weight[top.ids[0]].numpy())
    assert emb.rank_among(index, king.vector, nearest.numpy(), tuple(king.ids))[1] == 1  # the nearest is rank 1


def test_analogy_exclusions_carry_their_input_as_fields(lm, index):
    a, b, c = (emb.word_vector(lm, w, True) for w in ("king", "man", "woman"))
    got = emb.analogy(lm, index, a, b, c, k=5)
    first = {e.piece.id: e for e in got.neighbours.excluded}
    assert (first[a.ids[0]].role, first[a.ids[0]].word, first[a.ids[0]].other_form) == ("a", "king", False)
    others = [e for e in got.neighbours.excluded if e.other_form]
    assert others and all(e.reason == f"another form of input {e.role} ({e.word})" for e in others)


def test_closest_and_farthest_pairs_are_the_extreme_off_diagonal_cosines(lm):
    words = [emb.word_vector(lm, w, True) for w in ("king", "queen", "banana", "apple")]
    matrix = emb.similarity_matrix(words)
    (a, b), (c, d) = emb.closest_and_farthest(matrix)
    pairs = {(i, j): matrix.cosines[i, j] for i in range(4) for j in range(i + 1, 4)}
    assert matrix.cosines[a, b] == max(pairs.values()) and matrix.cosines[c, d] == min(pairs.values())
    assert a < b and c < d


def test_wavelengths_are_the_periods_of_the_sinusoids():
    lengths = positions.wavelengths(64)
    n = 4000
    table = positions.sinusoidal_encoding(n, 64)
    for i in (0, 1, 2, 3):  # a sine crosses zero twice per period: count the crossings
        crossings = int((np.diff(np.sign(table[:, 2 * i])) != 0).sum())
        assert abs(crossings - 2 * n / lengths[i]) <= 2
    assert lengths[0] == pytest.approx(2 * math.pi) and np.all(np.diff(lengths) > 0)  # later pairs are slower
