from explain import anatomy


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
