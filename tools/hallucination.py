"""`python -m tools.hallucination`: answer every shipped question on the embedded model.

Writes data/hallucination_results.json (the Hallucinations page reads it; a test recomputes a
sample). The file is rewritten after each question, and questions already in it (same settings)
are kept, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from explain import hallucination as hal
from explain.engine.models import load_model


def main() -> None:
    lm = load_model()
    settings = {"model": lm.name, "n_rerolls": hal.N_REROLLS, "seed": hal.SEED, "max_new_tokens": hal.MAX_NEW_TOKENS}
    done = {}
    if hal.RESULTS_FILE.exists():
        payload = json.loads(hal.RESULTS_FILE.read_text(encoding="utf-8"))
        if all(payload.get(k) == v for k, v in settings.items()):
            done = {a["prompt"]: a for a in payload["answered"]}
    answered = []
    for question in hal.load_questions():
        a = done.get(question.prompt) or asdict(hal.answer_question(lm, question))
        answered.append(a)
        print(f"{'✓' if a['correct'] else '✗'} {a['prompt']!r} → {a['greedy_answer']!r} "
              f"p={a['top_prob']:.2f} agree={a['agreement']:.1f}", flush=True)
        hal.RESULTS_FILE.write_text(json.dumps({**settings, "answered": answered}, ensure_ascii=False, indent=1) + "\n",
                                    encoding="utf-8")


if __name__ == "__main__":
    main()
