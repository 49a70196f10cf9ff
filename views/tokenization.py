"""Tokenization — see text become tokens, compare tokenizers, replay and train BPE."""

import streamlit as st

from explain import bpe
from explain.tokenizer_compare import (
    RULE_OF_THUMB_CHARS_PER_TOKEN,
    RULE_OF_THUMB_TOKENS_PER_WORD,
    count_text,
)
from ui import state
from ui import tokenization as ui
from ui.presenter import show_chart
from ui.walk import next_step_link

DEFAULT_WORD = "unbelievable"


def use_page_preset() -> None:
    """Pill callback: copy the chosen example into the shared prompt, then clear the pill."""
    choice = st.session_state.get("tok_preset")
    if choice in ui.PAGE_PRESETS:
        st.session_state[state.PROMPT_KEY] = ui.PAGE_PRESETS[choice]
    st.session_state["tok_preset"] = None


def use_prompt_word() -> None:
    """Selectbox callback: replay BPE on a word of the prompt (with its space unless it comes first)."""
    choice = st.session_state.get("bpe_pick")
    if choice:
        st.session_state["bpe_word"] = choice
        st.session_state["bpe_space"] = not state.current_prompt_text().lstrip().startswith(choice)
    st.session_state["bpe_pick"] = None


for key, default in {"bpe_word": DEFAULT_WORD, "bpe_space": False, "bpe_corpus": ui.CLASSIC_CORPUS,
                     "bpe_trial": "slowest newer & wider"}.items():
    st.session_state.setdefault(key, default)


st.title("✂️ Tokenization: how text becomes numbers")
st.markdown(
    "A model cannot read letters — it works with numbers. A **tokenizer** cuts text into "
    "**tokens** and looks each one up in a fixed **vocabulary** to get its **id**. A model must "
    "always be used with the tokenizer it was trained with. A token is **not** a word: common words "
    "are one token, rare words are built from pieces, and a space usually belongs to the *next* token."
)
st.pills(
    "Try an example (it replaces the prompt in the sidebar)",
    list(ui.PAGE_PRESETS),
    key="tok_preset",
    on_change=use_page_preset,
)

lm = state.current_model()
prompt = state.current_prompt_tokens(lm)
spans = ui.cached_spans(lm.name, tuple(prompt.ids))
counts = count_text(prompt.text, len(prompt.ids))

# 1 · The prompt as tokens ---------------------------------------------------------------------
st.header("1 · Your prompt as tokens")
st.html(ui.count_cards(counts))
if counts.n_words:
    st.markdown(
        f"**Rule of thumb:** English text takes about **{RULE_OF_THUMB_TOKENS_PER_WORD} tokens per "
        f"word** (≈ {RULE_OF_THUMB_CHARS_PER_TOKEN:.0f} characters per token). For your "
        f"{counts.n_words:,} word{'' if counts.n_words == 1 else 's'} it predicts ≈ {counts.rule_of_thumb_tokens:.0f} tokens; the "
        f"tokenizer used **{counts.n_tokens:,}** ({counts.vs_rule_of_thumb:.1f}× the rule). Other "
        "languages, emoji and code cost more — and that matters: services bill per token, and the "
        "context window is counted in tokens."
    )
st.html(ui.span_chips(spans))
st.caption(
    "Each box is one token, its id underneath; hover for how the tokenizer stores it and its bytes. "
    "· is a space, ↵ a line break. A dashed box holds only part of a character: the tokens that "
    "together form one character (an emoji, most Chinese characters) are framed together, with the "
    "character they form above them."
)
with st.expander("Table: every token with its id and bytes"):
    st.dataframe(ui.span_rows(spans), hide_index=True, key="token_table")
with st.expander("Why Ġ, and why does an emoji become several tokens?"):
    st.markdown(
        f"{lm.name.split(' ')[0]} uses **byte-level BPE**: text is first turned into UTF-8 bytes "
        "(256 possible values), so no character is ever unknown. To store bytes as printable text, "
        "the tokenizer gives each byte a stand-in character: a space is stored as **Ġ**, a line "
        "break as **Ċ**. So `Ġunbelie` is the token ' unbelie', with its space in front. A letter "
        "like *a* is one byte, but *é* is 2 bytes, a Chinese character 3 and most emoji 4. When a "
        "character is rare, the tokenizer has no single token for it and spends one token per byte "
        "(or pair of bytes); those tokens are shown above by their bytes, e.g. `<F0 9F>`, framed together "
        "under the character they form."
    )

# 2 · Compare tokenizers -----------------------------------------------------------------------
st.header("2 · Same text, different tokenizers")
views = ui.cached_comparison(lm.name, prompt.text)
st.markdown(
    "**Whitespace**, **word** and **character** splits are the naive ways. Real models use "
    "**subwords**: **BPE** — byte-level in GPT-2 and later GPT models and in Llama 3; Llama 1 and 2 "
    "used SentencePiece BPE with byte fallback (a character missing from the vocabulary is spelled "
    f"out as its bytes) — **WordPiece** (BERT) and **Unigram** (SentencePiece: T5, ALBERT, Jurassic). "
    f"The live model's tokenizer is {views[0].method[0].lower() + views[0].method[1:]}. A word-level vocabulary can never hold "
    "every word; characters never run out but make sequences long. Subwords are the compromise."
)
show_chart(ui.comparison_bars(views), key="compare_bars")
for view in views:
    if not view.available:
        st.warning(f"**{view.method}** ({view.name}): {view.note}")
        continue
    vocab = f"vocabulary {view.vocab_size:,}" if view.vocab_size else "no fixed vocabulary"
    unknown = f" · **{view.n_unknown} unknown**" if view.n_unknown else ""
    named = f"**{view.method}**" + ("" if view.name == view.method else f" — {view.name}")
    plural = "" if view.n_tokens == 1 else "s"
    st.markdown(f"{named} ({view.source}; {vocab}): **{view.n_tokens:,} token{plural}**{unknown}")
    if view.key == "live":  # the prompt's own spans: byte tokens framed under the character they form
        shown = spans[:len(view.pieces)]
        st.html(ui.span_chips(shown, more=view.n_tokens - len(shown)))
    else:
        st.html(ui.piece_chips(view.pieces, view.n_tokens))
    st.caption(view.note)
st.subheader("Why English is cheap")
sample_counts = ui.cached_sample_counts(lm.name)
st.markdown("The same sentence, five ways:\n" + "\n".join(
    f"- **{label}**: `{text.replace(chr(10), ' ↵ ')}`" for label, text in ui.SAMPLE_TEXTS.items()
))
st.dataframe(
    [
        {"text": label, "characters": len(ui.SAMPLE_TEXTS[label]), **row}
        for label, row in sample_counts.items()
    ],
    hide_index=True,
    key="sample_counts",
)
st.caption(
    "Token counts of roughly the same sentence in different forms. Tokenizers are trained mostly on "
    "English text, so English words are whole tokens, while Chinese characters and emoji are split "
    "into bytes — more tokens, so more cost and less room in the context window. Whitespace and word "
    "splits fail on Chinese, which has no spaces; WordPiece turns what it never saw into [UNK] and "
    "loses it. Characters are Unicode code points: the walking woman 🚶‍♀️ is 4 of them."
)

# 3 · BPE step by step -------------------------------------------------------------------------
st.header("3 · BPE, step by step")
st.markdown(
    "**Byte-pair encoding** learned its vocabulary by starting from single bytes and repeatedly "
    "merging the most frequent neighbouring pair in its training text. To tokenize, it replays those "
    "merges in the order they were learned. Here is the live tokenizer's own merge list at work."
)
word_choices = list(dict.fromkeys(w[: bpe.MAX_WORD_CHARS] for w in prompt.text.split()))[:200]
left, middle, right = st.columns([2, 2, 1])
left.text_input("Word", key="bpe_word", max_chars=bpe.MAX_WORD_CHARS)
middle.selectbox(
    "…or a word of your prompt", word_choices, index=None, key="bpe_pick",
    placeholder="Pick one", on_change=use_prompt_word,
)
right.checkbox("Space in front", key="bpe_space", help="Mid-sentence, a word comes with its space: ' unbelievable'.")
word = st.session_state.get("bpe_word") or ""
if st.session_state.get("bpe_space"):
    word = " " + word.lstrip(" ")
if not word.strip():
    st.info("Type a word above to watch BPE build it from bytes.")
else:
    try:
        replay = ui.cached_replay(lm.name, word)
    except bpe.NotByteLevelBpe as err:
        st.info(str(err))
    else:
        n_steps = len(replay.steps)
        if n_steps == 0:
            step = 0
            st.info("No merge applies: every byte of this word stays its own token.")
        else:
            step = st.slider("Merge step", 0, n_steps, 0, key=f"bpe_step::{word}",
                             help="0 = the bytes; move right to apply one merge at a time.")
        pieces = replay.pieces_at(step)
        if step == 0:
            st.markdown(f"**Start:** {len(pieces)} bytes, one token each (pre-tokenizer split: "
                        f"{', '.join(repr(bpe.readable_piece(p)) for p in replay.pretokens)}).")
            if replay.pretokens != replay.live_pretokens:
                st.caption(
                    "Every digit is its own pre-token, as in SmolLM2's published tokenizer (the GGUF "
                    "file names its pre-tokenizer 'smollm'). The copy of the tokenizer rebuilt from "
                    "the GGUF file skips that step and would have split "
                    + ", ".join(repr(bpe.readable_piece(p)) for p in replay.live_pretokens) + "."
                )
        else:
            merge = replay.steps[step - 1]
            st.markdown(
                f"**Step {step} of {n_steps}:** merge `{bpe.readable_piece(merge.left)}` + "
                f"`{bpe.readable_piece(merge.right)}` → `{bpe.readable_piece(merge.merged)}` "
                f"(merge no. {merge.rank + 1:,} of {replay.n_merges_in_list:,} in the tokenizer's list)."
            )
        merged_at = set()
        if step:
            merged_at = {i for i, p in enumerate(pieces) if p == replay.steps[step - 1].merged}
        st.html(ui.piece_chips([bpe.readable_piece(p) for p in pieces], highlight=merged_at,
                               chunks=[bpe.piece_bytes(p) for p in pieces]))
        if replay.differs_by_digit_split:
            st.warning(
                "Here the digit split changes the result: the live tokenizer, rebuilt from the GGUF "
                "file without it, returns "
                + ", ".join(repr(bpe.readable_piece(p)) for p in replay.tokenizer_tokens)
                + " — so for these numerals the live model reads different tokens from the ones "
                "SmolLM2 was trained with."
            )
        elif not replay.matches_tokenizer:
            st.warning(
                "This text contains a special token (like <|im_start|>) that the tokenizer cuts out "
                "before BPE runs, so the replay differs from its output: "
                + ", ".join(repr(bpe.readable_piece(p)) for p in replay.tokenizer_tokens)
            )
        elif step == n_steps:
            st.success(
                f"Done: {len(replay.final)} token(s), ids {replay.final_ids} — exactly what the "
                "tokenizer itself returns for this text."
            )
        with st.expander(f"All {n_steps} merges in order"):
            st.dataframe(
                {
                    "step": list(range(1, n_steps + 1)),
                    "left": [bpe.readable_piece(s.left) for s in replay.steps],
                    "right": [bpe.readable_piece(s.right) for s in replay.steps],
                    "merged": [bpe.readable_piece(s.merged) for s in replay.steps],
                    "rank in merge list": [s.rank + 1 for s in replay.steps],
                },
                hide_index=True,
                key="bpe_merges",
            )

# 4 · Train your own BPE -----------------------------------------------------------------------
st.header("4 · Train your own BPE")
st.markdown(
    "Now learn merges yourself. Each step counts every pair of neighbouring symbols in the corpus "
    "and merges the most frequent one; the vocabulary grows by one. Trained with the `tokenizers` "
    "library's BpeTrainer (the one Hugging Face models use)."
)
corpus = st.text_area("Training text (corpus)", key="bpe_corpus", height=90,
                      max_chars=bpe.MAX_CORPUS_CHARS)
alphabet = sorted(set("".join(corpus.split())))
base = len(alphabet) + 1  # the characters plus the [UNK] token
if not corpus.strip():
    st.info("Type a few words to train on.")
else:
    vocab_size = st.slider(
        "Vocabulary size", base, min(bpe.MAX_TRAIN_VOCAB, base + 60), min(base + 10, bpe.MAX_TRAIN_VOCAB),
        key="bpe_vocab", help=f"Starts at {base}: the {len(alphabet)} characters of the corpus plus [UNK].",
    )
    trained = ui.cached_training(corpus, vocab_size)
    stopped = " (the trainer stopped early: no pair was left to merge)" if trained.vocab_size < vocab_size else ""
    st.markdown(
        f"Alphabet: {len(trained.alphabet)} characters + [UNK]; **{len(trained.merges)} merges** "
        f"learned → vocabulary of **{trained.vocab_size}**{stopped}."
    )
    left, right = st.columns([1, 1])
    with left:
        st.dataframe(
            {
                "step": [m.step for m in trained.merges],
                "pair": [f"{m.left} + {m.right}" for m in trained.merges],
                "new token": [m.merged for m in trained.merges],
                "pair count": [m.count for m in trained.merges],
            },
            hide_index=True,
            key="trained_merges",
        )
    with right:
        retokenized = ui.cached_trained_tokenize(trained.tokenizer_json, corpus)
        st.markdown(f"**The corpus re-tokenized** ({len(retokenized)} tokens):")
        st.html(ui.piece_chips(retokenized[:300], len(retokenized)))
        trial = st.text_input("Try your tokenizer on", key="bpe_trial", max_chars=200)
        if trial.strip():
            st.html(ui.piece_chips(ui.cached_trained_tokenize(trained.tokenizer_json, trial)))
            st.caption("A character it never saw in training becomes [UNK] — byte-level BPE avoids that "
                       "by starting from all 256 bytes.")

next_step_link("tokenization")
