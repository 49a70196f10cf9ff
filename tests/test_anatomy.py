import torch

from explain import anatomy
from explain.engine import gguf_file


def test_smollm2_parts_add_up_to_every_parameter(lm):
    result = anatomy.model_anatomy(lm)
    assert result.n_params == sum(p.numel() for p in lm.model.parameters())
    assert "other" not in result.params_by_part
    assert sum(result.params_by_part.values()) == result.n_params
    assert (result.n_layer, result.n_head, result.n_kv_head) == (30, 9, 3)
    assert (result.d_model, result.vocab_size) == (576, 49152)
    assert result.tied_embeddings and "output head" not in result.params_by_part
    assert result.params_by_part["embeddings"] == lm.model.get_input_embeddings().weight.numel()
    assert 130e6 < result.n_params < 140e6


def test_gpt2_parts_include_learned_positions(tiny_gpt2):
    result = anatomy.model_anatomy(tiny_gpt2)
    assert "other" not in result.params_by_part
    assert result.params_by_part["embeddings"] == 100 * 32 + 64 * 32  # tokens + positions
    assert (result.n_layer, result.n_head, result.d_model, result.context_length) == (2, 2, 32, 64)
    assert result.n_params == sum(p.numel() for p in tiny_gpt2.model.parameters())


def test_position_encoding_matches_what_the_first_hidden_state_holds(lm, tiny_gpt2, tiny_llama):
    """Independent check: RoPE adds nothing to the embeddings, learned positions are added to them."""
    ids = torch.tensor([[5, 7, 11, 13]])
    with torch.inference_mode():
        smol = lm.model(ids, output_hidden_states=True).hidden_states[0][0]
        gpt2 = tiny_gpt2.model(ids, output_hidden_states=True).hidden_states[0][0]
    assert torch.equal(smol, lm.model.get_input_embeddings().weight[ids[0]])
    assert anatomy.position_encoding(lm) == "rope"
    assert anatomy.position_encoding(tiny_llama) == "rope"
    transformer = tiny_gpt2.model.transformer
    added = transformer.wte.weight[ids[0]] + transformer.wpe.weight[:4]
    assert torch.allclose(gpt2, added) and not torch.allclose(gpt2, transformer.wte.weight[ids[0]])
    assert anatomy.position_encoding(tiny_gpt2) == "learned"


def test_gguf_storage_matches_an_independent_read_of_the_file(lm):
    from collections import Counter

    from gguf import GGUFReader

    path = gguf_file.gguf_of(lm)
    assert path is not None
    rows = anatomy.storage_by_part(gguf_file.read_gguf(str(path)))
    reader = GGUFReader(str(path))  # a second, separate read of the same header
    by_type = Counter(t.tensor_type.name for t in reader.tensors)
    ours = Counter()
    for row in rows:
        ours[row.type_name] += row.n_tensors
    assert ours == by_type and sum(by_type.values()) == len(reader.tensors)
    assert (by_type["Q4_1"], by_type["Q8_0"], len(reader.tensors)) == (210, 1, 272)  # the audit's count
    embeddings = [row for row in rows if row.part == "embeddings"]
    assert [(row.type_name, row.n_tensors) for row in embeddings] == [("Q8_0", 1)]
    assert {row.type_name for row in rows if row.part in ("attention", "feed-forward")} == {"Q4_1"}
    assert {row.type_name for row in rows if row.part == "norms"} == {"F32"}
    # Every part holds as many numbers in the file as the loaded model has parameters there.
    per_part = Counter()
    for row in rows:
        per_part[row.part] += row.n_elements
    assert dict(per_part) == anatomy.model_anatomy(lm).params_by_part
    q4 = next(row for row in rows if row.type_name == "Q4_1")
    assert q4.bits_per_weight == 5.0  # 32 weights in 20 bytes: 4 bits each plus a scale and a minimum


def test_hub_models_have_no_gguf(tiny_gpt2):
    assert gguf_file.gguf_of(tiny_gpt2) is None


def test_small_parts_never_read_as_zero():
    assert anatomy.millions(35_136) == "<0.1 M" and anatomy.millions(0) == "0 M"
    assert anatomy.millions(28_311_552) == "28.3 M"
    assert anatomy.share(35_136, 134_515_008) == "<0.1%"
    assert anatomy.share(5_000_000, 134_515_008) == "4%" and anatomy.share(1_000_000, 134_515_008) == "0.7%"


def test_readme_states_the_files_own_storage_counts(lm):
    from collections import Counter
    from pathlib import Path

    types = Counter(t.type_name for t in gguf_file.read_gguf(str(gguf_file.gguf_of(lm))).tensors)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"{types['Q4_1']} of its\n{sum(types.values())} tensors" in readme
    assert gguf_file.nominal_bits("Q4_1") == 4 and gguf_file.nominal_bits("F32") == 32


def test_anatomy_table_rows_follow_the_parts_and_the_file(lm, tiny_gpt2):
    smol = anatomy.model_anatomy(lm)
    table = anatomy.anatomy_table(smol, anatomy.storage_by_part(gguf_file.read_gguf(str(gguf_file.gguf_of(lm)))))
    assert list(table)[:2] == ["part", "stored in the model file as"]
    rows = dict(zip(table["part"], table["stored in the model file as"]))
    assert rows["embeddings"] == "Q8_0, 8.5 bits/weight, 1 tensor"
    assert rows["norms"] == f"F32, 32 bits/weight, {2 * smol.n_layer + 1} tensors"  # two per layer + the final one
    assert [int(p.replace(",", "")) for p in table["parameters"]] == sorted(smol.params_by_part.values(), reverse=True)
    hub = anatomy.anatomy_table(anatomy.model_anatomy(tiny_gpt2), [])
    assert "stored in the model file as" not in hub and len(hub["part"]) == len(hub["share"])
