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
from ui.charts import show_shared_chart
from ui.i18n import _, format_number, ngettext
from ui.presenter import show_table
from ui.reveal import guess_before_reveal
from ui.walk import next_step_link

DEFAULT_WORD = "unbelievable"
DEFAULT_TRIAL = "slowest newer & wider"


def use_prompt_word() -> None:
    """Selectbox callback: replay BPE on a word of the prompt (with its space unless it comes first)."""
    choice = st.session_state.get("bpe_pick")
    if choice:
        st.session_state["bpe_word"] = choice
        st.session_state["bpe_space"] = not state.current_prompt_text().lstrip().startswith(choice)
    st.session_state["bpe_pick"] = None


def quoted_pieces(pieces: list[str]) -> str:
    return ", ".join(repr(bpe.readable_piece(p)) for p in pieces)


st.title(_("✂️ Tokenization: how text becomes numbers"))
st.markdown(_(
    "A model cannot read letters — it works with numbers. A **tokenizer** cuts text into "
    "**tokens** and looks each one up in a fixed **vocabulary** to get its **id**. A model must "
    "always be used with the tokenizer it was trained with. A token is **not** a word: common words "
    "are one token, rare words are built from pieces, and a space usually belongs to the *next* token."
))
st.pills(
    _("Try an example (it replaces your prompt)"),
    list(ui.PAGE_PRESETS),
    format_func=_,
    key="tok_preset",
    on_change=state.use_picked_preset,
    args=("tok_preset", ui.PAGE_PRESETS),
)

lm, prompt, ids = state.page_prompt()
spans = ui.cached_spans(lm, ids)
counts = count_text(prompt.text, len(prompt.ids))

# 1 · The prompt as tokens ---------------------------------------------------------------------
st.header(_("1 · Your prompt as tokens"))
st.markdown(_("🎯 **Guess first:** how many tokens will the tokenizer cut your prompt into? "
              "Turn the game on, type a number, then press Reveal."))
guess = guess_before_reveal("tok", ids, _("the token count and the tokens"), max_chars=6, example="9")
if guess is not None:
    st.markdown(ui.guess_verdict(guess, counts.n_tokens))
st.html(ui.count_cards(counts))
if counts.n_words:
    st.markdown(_(
        "**Rule of thumb:** English text takes about **{per_word} tokens per word** (≈ {per_token} "
        "characters per token). For your {words} it predicts ≈ {predicted} tokens; the tokenizer "
        "used **{tokens}** ({ratio}× the rule). Other languages, emoji and code cost more — and that "
        "matters: services bill per token, and the context window is counted in tokens."
    ).format(
        per_word=format_number(RULE_OF_THUMB_TOKENS_PER_WORD, 1),
        per_token=format_number(RULE_OF_THUMB_CHARS_PER_TOKEN),
        words=ngettext("{count} word", "{count} words", counts.n_words).format(count=format_number(counts.n_words)),
        predicted=format_number(counts.rule_of_thumb_tokens),
        tokens=format_number(counts.n_tokens),
        ratio=format_number(counts.vs_rule_of_thumb, 1),
    ))
st.html(ui.span_chips(spans))
st.caption(_(
    "Each box is one token, its id underneath; point at a token (or open the table below) for how "
    "the tokenizer stores it and its bytes. · is a space, ↵ a line break. A dashed box holds only "
    "part of a character: the tokens that together form one character (an emoji, most Chinese "
    "characters) are framed together, with the character they form above them."
))
with st.expander(_("Table: every token with its id and bytes")):
    st.html(ui.token_table(spans))
with st.expander(_("Why Ġ, and why does an emoji become several tokens?")):
    st.markdown(_(
        "{model} uses **byte-level BPE**: text is first turned into UTF-8 bytes (256 possible "
        "values), so no character is ever unknown. To store bytes as printable text, the tokenizer "
        "gives each byte a stand-in character: a space is stored as **Ġ**, a line break as **Ċ**. So "
        "`Ġunbelie` is the token ' unbelie', with its space in front. A letter like *a* is one byte, "
        "but *é* is 2 bytes, a Chinese character 3 and most emoji 4. When a character is rare, the "
        "tokenizer has no single token for it and spends one token per byte (or pair of bytes); those "
        "tokens are shown above by their bytes, e.g. `<F0 9F>`, framed together under the character "
        "they form."
    ).format(model=lm.name.split(" ")[0]))

st.info(ui.myth_text(counts))
st.html(ui.language_cost_table(ui.cached_language_costs(lm)))
st.caption(_(
    "Counted live with {model}'s own tokenizer; words are runs of text between spaces, so Chinese, "
    "written without spaces, counts as one. The same gap, measured on many tokenizers and "
    "languages: Petrov et al., “Language Model Tokenizers Introduce Unfairness Between Languages”, "
    "NeurIPS 2023."
).format(model=lm.name.split(" ")[0]))

# 2 · Compare tokenizers -----------------------------------------------------------------------
st.header(_("2 · Same text, different tokenizers"))
views = ui.cached_comparison(lm, prompt.text)
st.markdown(_(
    "**Whitespace**, **word** and **character** splits are the naive ways. Real models use "
    "**subwords**: **BPE** — byte-level in GPT-2 and later GPT models and in Llama 3; Llama 1 and 2 "
    "used SentencePiece BPE with byte fallback (a character missing from the vocabulary is spelled "
    "out as its bytes) — **WordPiece** (BERT) and **Unigram** (SentencePiece: T5, ALBERT, Jurassic). "
    "A word-level vocabulary can never hold every word; characters never run out but make sequences "
    "long. Subwords are the compromise."
))
show_shared_chart(lambda: ui.comparison_bars(views), (lm.name, prompt.text), key="compare_bars", page="tokenization",
                  title=_("Tokens per tokenizer"), prompt=prompt.text, model_name=lm.name)
st.markdown(ui.comparison_sentence(views))
with st.expander(_("Show the chart as a table")):
    st.html(ui.table_html(ui.comparison_rows(views), _("Tokens per tokenizer")))
for view in views:
    method, source, note = (_(text) for text in ui.VIEW_TEXT[view.key])
    if not view.available:
        st.warning(_("**{method}** ({name}) is not installed: {command}").format(
            method=method, name=view.name, command=view.install))
        continue
    named = f"**{method}**" + ("" if view.name == view.method else f" — {view.name}")
    vocab = (_("vocabulary {size}").format(size=format_number(view.vocab_size)) if view.vocab_size
             else _("no fixed vocabulary"))
    count = ngettext("**{count} token**", "**{count} tokens**", view.n_tokens).format(count=format_number(view.n_tokens))
    unknown = (" · " + ngettext("**{count} unknown**", "**{count} unknown**", view.n_unknown).format(
        count=format_number(view.n_unknown))) if view.n_unknown else ""
    st.markdown(_("{method} ({source}; {vocab}): {count}").format(method=named, source=source, vocab=vocab,
                                                                   count=count) + unknown)
    if view.key == "live":  # the prompt's own spans: byte tokens framed under the character they form
        shown = spans[:len(view.pieces)]
        st.html(ui.span_chips(shown, more=view.n_tokens - len(shown)))
    else:
        st.html(ui.piece_chips(view.pieces, view.n_tokens))
    st.caption(note)
st.subheader(_("Why English is cheap"))
st.markdown(_("The same sentence, five ways:") + "\n" + "\n".join(
    f"- **{_(label)}**: `{text.replace(chr(10), ' ↵ ')}`" for label, text in ui.SAMPLE_TEXTS.items()
))
st.html(ui.table_html(ui.sample_rows(ui.cached_sample_counts(lm)), _("Tokens for the same sentence, five ways")))
st.caption(_(
    "Token counts of roughly the same sentence in different forms. Tokenizers are trained mostly on "
    "English text, so English words are whole tokens, while Chinese characters and emoji are split "
    "into bytes — more tokens, so more cost and less room in the context window. Whitespace and word "
    "splits fail on Chinese, which has no spaces; WordPiece turns what it never saw into [UNK] and "
    "loses it. Characters are Unicode code points: the walking woman 🚶‍♀️ is 4 of them."
))

# 3 · BPE step by step -------------------------------------------------------------------------
st.header(_("3 · BPE, step by step"))
st.markdown(_(
    "**Byte-pair encoding** learned its vocabulary by starting from single bytes and repeatedly "
    "merging the most frequent neighbouring pair in its training text. To tokenize, it replays those "
    "merges in the order they were learned. Here is the live tokenizer's own merge list at work."
))
word_choices = list(dict.fromkeys(w[: bpe.MAX_WORD_CHARS] for w in prompt.text.split()))[:200]
left, middle, right = st.columns([2, 2, 1])
left.text_input(_("Word"), DEFAULT_WORD, key="bpe_word", max_chars=bpe.MAX_WORD_CHARS, bind="query-params")
middle.selectbox(
    _("…or a word of your prompt"), word_choices, index=None, key="bpe_pick",
    placeholder=_("Pick one"), on_change=use_prompt_word,
)
right.checkbox(_("Space in front"), False, key="bpe_space", bind="query-params",
               help=_("Mid-sentence, a word comes with its space: ' unbelievable'."))
word = st.session_state.get("bpe_word") or ""
if st.session_state.get("bpe_space"):
    word = " " + word.lstrip(" ")
if not word.strip():
    st.info(_("Type a word above to watch BPE build it from bytes."))
else:
    try:
        replay = ui.cached_replay(lm, word)
    except bpe.NotByteLevelBpe:
        st.info(_("This model's tokenizer is not byte-level BPE, so its merges cannot be replayed here."))
    else:
        n_steps = len(replay.steps)
        if n_steps == 0:
            step = 0
            st.info(_("No merge applies: every byte of this word stays its own token."))
        else:
            step = st.slider(_("Merge step"), 0, n_steps, 0, key=f"bpe_step::{word}",
                             help=_("0 = the bytes; move right to apply one merge at a time."))
        pieces = replay.pieces_at(step)
        if step == 0:
            st.markdown(_("**Start:** {count} bytes, one token each (pre-tokenizer split: {split}).").format(
                count=len(pieces), split=quoted_pieces(replay.pretokens)))
        else:
            merge = replay.steps[step - 1]
            st.markdown(_(
                "**Step {step} of {steps}:** merge `{left}` + `{right}` → `{merged}` (merge no. {rank} "
                "of {total} in the tokenizer's list)."
            ).format(step=step, steps=n_steps, left=bpe.readable_piece(merge.left),
                     right=bpe.readable_piece(merge.right), merged=bpe.readable_piece(merge.merged),
                     rank=format_number(merge.rank + 1), total=format_number(replay.n_merges_in_list)))
        merged_at = set()
        if step:
            merged_at = {i for i, p in enumerate(pieces) if p == replay.steps[step - 1].merged}
        st.html(ui.piece_chips([bpe.readable_piece(p) for p in pieces], highlight=merged_at,
                               chunks=[bpe.piece_bytes(p) for p in pieces]))
        if merged_at:
            st.caption(_("The thick outline marks the piece the last merge made."))
        if not replay.matches_tokenizer:
            st.warning(_(
                "This text contains a special token (like <|im_start|>) that the tokenizer cuts out "
                "before BPE runs, so the replay differs from its output: {pieces}"
            ).format(pieces=quoted_pieces(replay.tokenizer_tokens)))
        elif step == n_steps:
            st.success(ngettext(
                "Done: {count} token, ids {ids} — exactly what the tokenizer itself returns for this text.",
                "Done: {count} tokens, ids {ids} — exactly what the tokenizer itself returns for this text.",
                len(replay.final),
            ).format(count=len(replay.final), ids=replay.final_ids))
        with st.expander(ngettext("The {count} merge in order", "All {count} merges in order", n_steps).format(
                count=n_steps)):
            show_table(
                {
                    _("step"): list(range(1, n_steps + 1)),
                    _("left"): [bpe.readable_piece(s.left) for s in replay.steps],
                    _("right"): [bpe.readable_piece(s.right) for s in replay.steps],
                    _("merged"): [bpe.readable_piece(s.merged) for s in replay.steps],
                    _("rank in merge list"): [s.rank + 1 for s in replay.steps],
                },
                key="bpe_merges",
            )

# 4 · Train your own BPE -----------------------------------------------------------------------
st.header(_("4 · Train your own BPE"))
st.markdown(_(
    "Now learn merges yourself. Each step counts every pair of neighbouring symbols in the corpus "
    "and merges the most frequent one; the vocabulary grows by one. Trained with the `tokenizers` "
    "library's BpeTrainer (the one Hugging Face models use)."
))
corpus = st.text_area(_("Training text (corpus)"), ui.CLASSIC_CORPUS, key="bpe_corpus", height=90,
                      max_chars=bpe.MAX_CORPUS_CHARS, bind="query-params")
alphabet = sorted(set("".join(corpus.split())))
base = len(alphabet) + 1  # the characters plus the [UNK] token
if not corpus.strip():
    st.info(_("Type a few words to train on."))
else:
    vocab_size = st.slider(
        _("Vocabulary size"), base, min(bpe.MAX_TRAIN_VOCAB, base + 60), min(base + 10, bpe.MAX_TRAIN_VOCAB),
        key="bpe_vocab", bind="query-params",
        help=_("Starts at {base}: the {count} characters of the corpus plus [UNK].").format(base=base, count=len(alphabet)),
    )
    trained = ui.cached_training(corpus, vocab_size)
    learned = ngettext("**{count} merge** learned", "**{count} merges** learned", len(trained.merges)).format(
        count=len(trained.merges))
    summary = _("Alphabet: {count} characters + [UNK]; {learned} → vocabulary of **{size}**.").format(
        count=len(trained.alphabet), learned=learned, size=trained.vocab_size)
    if trained.vocab_size < vocab_size:
        summary += " " + _("The trainer stopped early: no pair was left to merge.")
    st.markdown(summary)
    left, right = st.columns([1, 1])
    with left:
        show_table(
            {
                _("step"): [m.step for m in trained.merges],
                _("pair"): [f"{m.left} + {m.right}" for m in trained.merges],
                _("new token"): [m.merged for m in trained.merges],
                _("pair count"): [m.count for m in trained.merges],
            },
            key="trained_merges",
        )
    with right:
        retokenized = ui.cached_trained_tokenize(trained.tokenizer_json, corpus)
        st.markdown(ngettext("**The corpus re-tokenized** ({count} token):",
                             "**The corpus re-tokenized** ({count} tokens):", len(retokenized)).format(
            count=format_number(len(retokenized))))
        st.html(ui.piece_chips(retokenized[:300], len(retokenized)))
        trial = st.text_input(_("Try your tokenizer on"), DEFAULT_TRIAL, key="bpe_trial", max_chars=200,
                              bind="query-params")
        if trial.strip():
            st.html(ui.piece_chips(ui.cached_trained_tokenize(trained.tokenizer_json, trial)))
            st.caption(_("A character it never saw in training becomes [UNK] — byte-level BPE avoids that "
                         "by starting from all 256 bytes."))

next_step_link("tokenization")
