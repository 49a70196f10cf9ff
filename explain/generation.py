"""Generation is a loop: predict, choose a token, append it, predict again.

`greedy_continuation` is the site's own generation path: one forward over the prompt, then one
token per step reusing the key/value cache, with the output head run only on the last position.
Its ids equal `model.generate(do_sample=False)` (tested). The same loop, one click at a time
(`IncrementalLogits`, `generate_steps`), draws with the sampling filters; `beam_search` mirrors
`generate(num_beams=…)` and keeps every candidate so the page can draw the search tree.
`greedy_stream` and `generate_steps_stream` yield one token at a time, as it is chosen, so a page
can show each token at once; the list-returning functions are these streams run to the end.
`greedy_stream_together` is `greedy_stream` batched with every other visitor's continuation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from explain.engine import decode_batch, fast_decode, runtime
from explain.engine.analysis import PromptAnalysis
from explain.engine.models import LoadedModel
from explain.engine.two_core_matmul import two_core_matmuls
from explain.sampling import GREEDY, SamplingSettings, choose_token, step_generator
from explain.tokens import TokenPiece, decode, token_piece, token_pieces


@dataclass(frozen=True)
class Continuation:
    prompt_ids: list[int]
    new_ids: list[int]
    pieces: list[TokenPiece]  # one per new token, numbered after the prompt's tokens
    probs: list[float]  # probability the model gave each chosen token
    text: str  # the new text only
    stopped_at_end_token: bool


def _eos_ids(lm: LoadedModel) -> set[int]:
    eos = lm.model.generation_config.eos_token_id or lm.config.eos_token_id
    if eos is None:
        return set()
    return set(eos) if isinstance(eos, list) else {eos}


def greedy_stream(lm: LoadedModel, ids: list[int], max_new_tokens: int) -> Iterator[tuple[int, float]]:
    """Greedy decoding with a KV cache, one (new id, its probability) at a time, as it is chosen.

    Stops after the end token (which is yielded) or `max_new_tokens` tokens. Llama-family models (the
    embedded SmolLM2) decode through `fast_decode.LlamaDecoder`, about twice as fast on two cores;
    other models use transformers' forward one token at a time. Either way the probabilities are
    the softmax of fp32 logits. The torch modes are entered per step, never held across a `yield`,
    so a caller may stop iterating at any point (e.g. when a Streamlit rerun interrupts it).
    """
    if not ids:
        raise ValueError("ids is empty: the model needs at least one token to continue from")
    eos = _eos_ids(lm)
    with torch.inference_mode(), two_core_matmuls():
        if fast_decode.supports(lm.model):
            decoder = fast_decode.LlamaDecoder(lm.model)
            logits = decoder.start(ids, max_new_tokens)
            advance = decoder.step
        else:
            cache = runtime.new_cache(lm.config)
            logits = lm.model(torch.tensor([ids]), past_key_values=cache, use_cache=True, logits_to_keep=1).logits[0, -1]

            def advance(token_id: int) -> torch.Tensor:
                out = lm.model(torch.tensor([[token_id]]), past_key_values=cache, use_cache=True, logits_to_keep=1)
                return out.logits[0, -1]

    for step in range(max_new_tokens):
        with torch.inference_mode():
            step_probs = torch.softmax(logits.float(), dim=-1)
            next_id = int(step_probs.argmax())
            prob = float(step_probs[next_id])
        yield next_id, prob
        if next_id in eos:
            return
        if step + 1 < max_new_tokens:
            with torch.inference_mode(), two_core_matmuls():
                logits = advance(next_id)


def greedy_stream_together(lm: LoadedModel, ids: list[int], max_new_tokens: int,
                           analysed: PromptAnalysis | None = None) -> Iterator[tuple[int, float]]:
    """`greedy_stream`, decoded in one batch with every other continuation running at the same time.

    Thirty visitors' continuations then cost one batched decode step per token instead of thirty
    one-row steps fighting over two cores (`explain.engine.decode_batch`, on the inference worker).
    The tokens are `greedy_stream`'s and the probabilities equal to float rounding (tested). Models
    the batched step does not reproduce (GPT-2 from the hub) use `greedy_stream` itself.
    `analysed`: the analysis of `ids` when one is at hand (Home's, cached): the prompt then does not
    run through the model a second time (`decode_batch.GreedyBatcher.stream`).
    """
    batcher = decode_batch.shared()
    if not batcher.applies(lm.model):
        return greedy_stream(lm, ids, max_new_tokens)
    return batcher.stream(lm.model, ids, max_new_tokens, _eos_ids(lm), analysed)


def greedy_ids(lm: LoadedModel, ids: list[int], max_new_tokens: int) -> tuple[list[int], list[float], bool]:
    """Greedy decoding with a KV cache: (new ids, their probabilities, stopped at end token).

    All of `greedy_stream` at once.
    """
    steps = list(greedy_stream(lm, ids, max_new_tokens))
    new_ids = [token_id for token_id, _ in steps]
    stopped = bool(new_ids) and new_ids[-1] in _eos_ids(lm)
    return new_ids, [prob for _, prob in steps], stopped


def greedy_continuation(lm: LoadedModel, ids: list[int], max_new_tokens: int = 20) -> Continuation:
    """The most likely next token, again and again, for up to `max_new_tokens` steps."""
    new_ids, probs, _ = greedy_ids(lm, ids, max_new_tokens)
    return continuation_of(lm, ids, new_ids, probs)


def continuation_of(lm: LoadedModel, ids: list[int], new_ids: list[int], probs: list[float]) -> Continuation:
    """A `Continuation` of `ids` by the chosen `new_ids` (e.g. those `greedy_stream` has yielded so far)."""
    return Continuation(
        prompt_ids=list(ids),
        new_ids=list(new_ids),
        pieces=token_pieces(lm, new_ids, start=len(ids)),
        probs=list(probs),
        text=decode(lm, new_ids),
        stopped_at_end_token=bool(new_ids) and is_end_token(lm, new_ids[-1]),
    )


def is_end_token(lm: LoadedModel, token_id: int) -> bool:
    """Whether generation stops after `token_id` (one of the model's end-of-text ids)."""
    return token_id in _eos_ids(lm)


# ---------------------------------------------------------------------------------------------
# Step-by-step generation: one token per click, the key/value cache kept between clicks


class IncrementalLogits:
    """Next-token logits for a sequence that grows one token at a time, reusing the KV cache.

    `logits_after(ids)` feeds the model only the tokens it has not seen yet; if `ids` is not an
    extension of what it has seen (a new prompt), it starts over. Not thread-safe: keep one per
    visitor (e.g. in the session state). `tokens_fed` counts the positions the model has run on.
    """

    def __init__(self, lm: LoadedModel):
        self.lm = lm
        self.ids: list[int] = []
        self.cache: runtime.KVCache | None = None
        self.last_logits = None
        self.tokens_fed = 0

    def logits_after(self, ids: list[int]):
        """(vocab,) float32 numpy logits for the token after `ids`."""
        if not ids:
            raise ValueError("ids is empty: the model needs at least one token to continue from")
        ids = list(ids)
        if ids == self.ids and self.last_logits is not None:
            return self.last_logits
        if self.cache is None or len(ids) <= len(self.ids) or ids[: len(self.ids)] != self.ids:
            self.cache, self.ids = runtime.new_cache(self.lm.config), []
        new = ids[len(self.ids):]
        with torch.inference_mode(), two_core_matmuls():
            out = self.lm.model(torch.tensor([new]), past_key_values=self.cache, use_cache=True, logits_to_keep=1)
        self.ids = ids
        self.tokens_fed += len(new)
        self.last_logits = out.logits[0, -1].float().numpy().copy()
        return self.last_logits


@dataclass(frozen=True)
class TraceStep:
    step: int  # 1 = the first generated token
    piece: TokenPiece
    prob: float  # the model's probability for the chosen token
    draw_prob: float  # its probability among the surviving candidates
    rank: int
    n_candidates: int
    settings: SamplingSettings  # how it was chosen


def generate_steps_stream(
    stepper: IncrementalLogits,
    ids: list[int],
    settings: SamplingSettings,
    n_steps: int,
    seed: int,
    first_step: int,
) -> Iterator[TraceStep]:
    """Choose up to `n_steps` tokens after `ids`, yielding each one's trace as soon as it is chosen.

    Step s draws with `step_generator(seed, s)`, so n clicks of "next token" equal one "generate n".
    It stops after the end token (which is yielded). The stepper's cache only ever holds tokens
    already yielded, so stopping the iteration early leaves it consistent.
    """
    eos = _eos_ids(stepper.lm)
    ids = list(ids)
    for offset in range(n_steps):
        step = first_step + offset
        choice = choose_token(stepper.logits_after(ids), settings, step_generator(seed, step))
        ids.append(choice.token_id)
        yield TraceStep(
            step=step,
            piece=token_piece(stepper.lm, choice.token_id, len(ids) - 1),
            prob=choice.prob,
            draw_prob=choice.draw_prob,
            rank=choice.rank,
            n_candidates=choice.n_candidates,
            settings=settings,
        )
        if choice.token_id in eos:
            return


def generate_steps(
    stepper: IncrementalLogits,
    ids: list[int],
    settings: SamplingSettings,
    n_steps: int,
    seed: int,
    first_step: int,
) -> tuple[list[int], list[TraceStep], bool]:
    """Choose up to `n_steps` tokens after `ids`: (new ids, their trace, stopped at the end token).

    All of `generate_steps_stream` at once.
    """
    trace = list(generate_steps_stream(stepper, ids, settings, n_steps, seed, first_step))
    new_ids = [row.piece.id for row in trace]
    return new_ids, trace, bool(new_ids) and new_ids[-1] in _eos_ids(stepper.lm)


# ---------------------------------------------------------------------------------------------
# Several samples at once, for comparing strategies


@dataclass(frozen=True)
class Samples:
    settings: SamplingSettings
    seed: int
    texts: list[str]  # one continuation per sample (new text only)
    new_ids: list[list[int]]
    mean_logprob: list[float]  # mean log-probability per token under the model (T = 1)


def sample_continuations(
    lm: LoadedModel, ids: list[int], settings: SamplingSettings, n_samples: int, max_new_tokens: int, seed: int
) -> Samples:
    """`n_samples` continuations drawn together as one batch with a shared KV cache.

    Greedy rows are all the same, so greedy runs one row. A row stops at the end token.
    """
    return sample_continuations_batch(lm, ids, [settings], n_samples, max_new_tokens, seed)[0]


def sample_continuations_batch(
    lm: LoadedModel, ids: list[int], strategies: list[SamplingSettings], n_samples: int, max_new_tokens: int,
    seed: int,
) -> list[Samples]:
    """`sample_continuations` for several strategies at once, one `Samples` each, in one batch.

    Generating is bandwidth-bound on a CPU: every step reads all the weights whatever the number of
    rows, so 9 rows cost little more than 3 (measured: 15 steps of 9 rows 0.91 s, of 3 rows 0.78 s).
    Each strategy draws from its own generator seeded with `seed`, row after row, exactly as it does
    alone, so its texts are those of its own run; only the logits' last bits may differ (a larger
    batch adds in another order, ~1e-5), as in any batched forward.
    """
    if not ids:
        raise ValueError("ids is empty: the model needs at least one token to continue from")
    group = [g for g, settings in enumerate(strategies)
             for _ in range(1 if settings.strategy == GREEDY else n_samples)]  # the strategy of each row
    rows = len(group)
    eos = _eos_ids(lm)
    pad = next(iter(eos)) if eos else 0
    generators = [torch.Generator().manual_seed(int(seed)) for _ in strategies]
    new_ids: list[list[int]] = [[] for _ in range(rows)]
    logprobs: list[list[float]] = [[] for _ in range(rows)]
    done = [False] * rows
    with torch.inference_mode(), two_core_matmuls():
        next_logits = _rows_stepper(lm, ids, rows, max_new_tokens)
        chosen = None
        for _ in range(max_new_tokens):
            logits = next_logits(chosen).float().numpy()
            chosen = []
            for row in range(rows):
                if done[row]:
                    chosen.append(pad)
                    continue
                choice = choose_token(logits[row], strategies[group[row]], generators[group[row]])
                new_ids[row].append(choice.token_id)
                logprobs[row].append(float(np.log(choice.prob)))
                done[row] = choice.token_id in eos
                chosen.append(choice.token_id)
            if all(done):
                break
    return [
        Samples(
            settings=settings,
            seed=seed,
            texts=[decode(lm, [t for t in new_ids[row] if t not in eos]) for row in range(rows) if group[row] == g],
            new_ids=[new_ids[row] for row in range(rows) if group[row] == g],
            mean_logprob=[float(np.mean(logprobs[row])) if logprobs[row] else float("nan")
                          for row in range(rows) if group[row] == g],
        )
        for g, settings in enumerate(strategies)
    ]


def _rows_stepper(lm: LoadedModel, ids: list[int], rows: int, max_new_tokens: int):
    """`rows` copies of the prompt `ids`, advanced together: a function that feeds each row its
    chosen token (None the first time: the prompt itself) and returns the logits (rows, vocab).

    Llama-family models run the prompt once (`fast_decode.prefill`, one row, its keys/values copied
    to every row: they are the same prompt) and then `fast_decode.decode_step`, one read of the
    weights per step for every row. Measured on Why it makes things up's 10 re-rolls × 8 tokens
    (2026-12-03, median of 4): 0.99 s against 1.27 s for transformers' forward per step, which
    prefills all ten rows; same texts. Other models (GPT-2 from the hub) use that generic forward."""
    if fast_decode.supports(lm.model):
        kv = fast_decode.KVSlots(fast_decode.LlamaWeights(lm.model), rows, len(ids) + max_new_tokens)
        position = len(ids)

        def fast(chosen: list[int] | None) -> torch.Tensor:
            nonlocal position
            if chosen is None:
                first = fast_decode.prefill(kv, [0], [list(ids)])
                for row in range(1, rows):
                    kv.move(0, row, len(ids))
                return first.expand(rows, -1)
            logits = fast_decode.decode_step(kv, torch.tensor(chosen), torch.full((rows,), position))
            position += 1
            return logits

        return fast
    cache = runtime.new_cache(lm.config)

    def generic(chosen: list[int] | None) -> torch.Tensor:
        step_input = torch.tensor([list(ids)] * rows) if chosen is None else torch.tensor(chosen)[:, None]
        return lm.model(step_input, past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1]

    return generic


# ---------------------------------------------------------------------------------------------
# Beam search, step by step, with every candidate kept for drawing the tree


@dataclass(frozen=True)
class BeamNode:
    node: int  # index in BeamSearch.nodes; 0 = the prompt
    parent: int  # -1 for the prompt
    step: int  # 0 = the prompt, 1 = the first new token…
    token_id: int
    piece: TokenPiece | None  # None for the prompt
    logprob: float  # the sequence's summed log-probability so far
    status: str  # "prompt", "kept" (continues), "finished" (ended, scored), "dropped"


@dataclass(frozen=True)
class BeamSearch:
    num_beams: int
    length_penalty: float
    nodes: list[BeamNode]
    best_ids: list[int]  # the winning continuation (new tokens only, the end token included)
    best_score: float  # its summed log-probability / (length ** length_penalty)
    best_path: list[int]  # node indices from the prompt to the winner's last token
    finished: list[tuple[float, list[int]]]  # (score, new ids) of the kept hypotheses, best first


def beam_search(
    lm: LoadedModel,
    ids: list[int],
    num_beams: int = 3,
    max_new_tokens: int = 5,
    length_penalty: float | None = None,
    early_stopping: bool | str | None = None,
) -> BeamSearch:
    """Beam search as transformers 5 runs it (`generate(num_beams=…, do_sample=False)`), traced.

    Each step scores every continuation of every running beam, gathers the best
    K = max(2, 1 + n_eos) × num_beams, continues the best `num_beams` that did not end, and files the
    ones that ended (end token or length limit) among the top `num_beams` as finished hypotheses,
    scored by summed log-probability / new_length ** length_penalty. It stops when no running beam
    can beat the worst finished one (transformers' heuristic) or at the length limit.
    """
    if not ids:
        raise ValueError("ids is empty: the model needs at least one token to continue from")
    config = lm.model.generation_config
    # transformers' defaults when the model's generation config leaves them unset: 1.0 and False.
    if length_penalty is None:
        length_penalty = 1.0 if config.length_penalty is None else config.length_penalty
    if early_stopping is None:
        early_stopping = False if config.early_stopping is None else config.early_stopping
    eos = sorted(_eos_ids(lm))
    keep = max(2, 1 + len(eos)) * num_beams
    prompt_len, max_length = len(ids), len(ids) + max_new_tokens

    nodes = [BeamNode(0, -1, 0, -1, None, 0.0, "prompt")]
    running_nodes = [0] * num_beams  # the node each running beam ends in
    running_scores = torch.full((num_beams,), -1.0e9)
    running_scores[0] = 0.0  # only the first copy of the prompt may expand at step 1
    finished_scores = torch.full((num_beams,), -1.0e9)
    finished_nodes = [-1] * num_beams
    is_finished = torch.zeros(num_beams, dtype=torch.bool)
    improvement_possible = True
    cur_len = prompt_len

    with torch.inference_mode(), two_core_matmuls():
        cache = runtime.new_cache(lm.config)
        step_input = torch.tensor([list(ids)] * num_beams)
        while True:
            out = lm.model(step_input, past_key_values=cache, use_cache=True, logits_to_keep=1)
            log_probs = torch.log_softmax(out.logits[:, -1].float(), dim=-1)  # (num_beams, vocab)
            vocab = log_probs.shape[-1]
            totals = (log_probs + running_scores[:, None]).reshape(-1)
            top_scores, top_index = torch.topk(totals, k=keep)
            parents, tokens = top_index // vocab, top_index % vocab
            ends = torch.tensor([int(t) in eos or cur_len + 1 >= max_length for t in tokens])

            # The best num_beams candidates that did not end continue.
            next_order = torch.topk(top_scores + ends.float() * -1.0e9, k=num_beams).indices
            # Those that ended among the top num_beams become finished hypotheses (if they can still win).
            penalised = top_scores / ((cur_len + 1 - prompt_len) ** length_penalty)
            blocked = (bool(is_finished.all()) and early_stopping is True) or not improvement_possible
            candidate = ends & (torch.arange(keep) < num_beams)
            penalised = penalised + (~candidate).float() * -1.0e9 + (-1.0e9 if blocked else 0.0)

            new_nodes = []
            for k in range(keep):
                status = "dropped"
                if bool(candidate[k]):
                    status = "finished"
                elif k in next_order.tolist():
                    status = "kept"
                node = len(nodes)
                nodes.append(
                    BeamNode(
                        node,
                        running_nodes[int(parents[k])],
                        cur_len + 1 - prompt_len,
                        int(tokens[k]),
                        token_piece(lm, int(tokens[k]), cur_len),
                        float(top_scores[k]),
                        status,
                    )
                )
                new_nodes.append(node)

            merged_scores = torch.cat([finished_scores, penalised])
            merged_nodes = finished_nodes + new_nodes
            merged_finished = torch.cat([is_finished, candidate])
            best = torch.topk(merged_scores, k=num_beams).indices
            finished_scores = merged_scores[best]
            finished_nodes = [merged_nodes[int(i)] for i in best]
            is_finished = merged_finished[best]

            running_nodes = [new_nodes[int(i)] for i in next_order]
            running_scores = (top_scores + ends.float() * -1.0e9)[next_order]
            cache.reorder_cache(parents[next_order])
            step_input = tokens[next_order][:, None]
            cur_len += 1

            if early_stopping == "never" and length_penalty > 0.0:
                best_length = max_length - prompt_len
            else:
                best_length = cur_len - prompt_len
            best_running = float(running_scores[0]) / (best_length**length_penalty)
            worst_finished = torch.where(is_finished, finished_scores.min(), torch.tensor(-1.0e9))
            improvement_possible = improvement_possible and bool((best_running > worst_finished).any())
            all_finished_and_early = bool(is_finished.all()) and early_stopping is True
            if not improvement_possible or all_finished_and_early or bool(ends.all()):
                break

    def path_to(node: int) -> list[int]:
        path = []
        while node > 0:
            path.append(node)
            node = nodes[node].parent
        return [0] + path[::-1]

    finished = [
        (float(score), [nodes[n].token_id for n in path_to(node)[1:]])
        for score, node in zip(finished_scores.tolist(), finished_nodes)
        if node >= 0 and score > -1.0e8
    ]
    best_path = path_to(finished_nodes[0])
    return BeamSearch(
        num_beams=num_beams,
        length_penalty=float(length_penalty),
        nodes=nodes,
        best_ids=[nodes[n].token_id for n in best_path[1:]],
        best_score=float(finished_scores[0]),
        best_path=best_path,
        finished=finished,
    )
