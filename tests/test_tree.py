"""nnfunc.tree: tree_map over params, grads and states; num_params; summary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc.testing import Architecture, architectures, inputs, network, params, targets
from nnfunc.tree import num_params, summary, tree_map

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0.0, 1.0, 1.0, 0.0])


@settings(deadline=None)
@given(st.data())
def test_tree_map_of_an_sgd_step_is_sgd_step(data: st.DataObject) -> None:
    p = data.draw(params())
    x = data.draw(inputs(p))
    g = nf.grads(p, x, data.draw(targets(p, batch=len(x))))
    new = tree_map(lambda w, dw: w - 0.25 * dw, p, g)
    assert isinstance(new, nf.Frozen)
    assert (new.hidden, new.output) == (p.hidden, p.output)
    assert list(new) == list(p)
    step = nf.sgd_step(p, g, lr=0.25)
    for k in p:
        assert new[k].dtype == p[k].dtype
        assert not new[k].flags.writeable
        np.testing.assert_allclose(new[k], step[k], rtol=1e-6, atol=1e-7)


@given(params())
def test_tree_map_identity_and_sum(p: nf.Frozen[nf.Array]) -> None:
    assert tree_map(lambda a: a, p) == p
    twice = tree_map(np.add, p, p)
    assert all(np.array_equal(twice[k], 2 * p[k]) for k in p)
    assert (twice.hidden, twice.output) == (p.hidden, p.output)


def test_tree_map_keeps_the_first_record_and_maps_states() -> None:
    p = nf.init_params([2, 3, 1], hidden="tanh", output="identity")
    g = nf.grads(p, X, Y)
    assert tree_map(np.multiply, g, dict(p)).hidden == "tanh"  # g carries p's record
    bare = tree_map(np.multiply, dict(p), p)
    assert (bare.hidden, bare.output) == (None, None)
    _, state = nf.adam_step(p, g, nf.adam_init(p), lr=0.1)
    halved = tree_map(lambda a: a / 2, state)
    assert list(halved) == list(state)
    assert float(halved["count"]) == 0.5
    np.testing.assert_array_equal(halved["m.W1"], state["m.W1"] / 2)
    assert tree_map(lambda a, b: a + b, state, state)["count"] == 2


def test_tree_map_names_what_differs() -> None:
    p = nf.init_params([2, 3, 1])
    fewer = {k: v for k, v in p.items() if k != "b2"}
    expected = r"values\[0\] has other keys than value: missing \['b2'\]$"
    with pytest.raises(ValueError, match=expected):
        tree_map(np.add, p, fewer)
    more = dict(p) | {"x": p["b1"]}
    with pytest.raises(ValueError, match=r"values\[1\] .*: unexpected \['x'\]$"):
        tree_map(np.add, p, p, more)
    with pytest.raises(ValueError, match=r"missing \['b2'\], unexpected \['c2'\]"):
        tree_map(np.add, p, fewer | {"c2": p["b2"]})
    with pytest.raises(TypeError, match=r"values\[0\] must be a mapping"):
        tree_map(np.add, p, [1.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fn must be a function"):
        tree_map(None, p)  # type: ignore[arg-type]
    # fn's results must still make a valid value
    with pytest.raises(ValueError, match="shape"):
        tree_map(lambda a: a.T, p)
    with pytest.raises(ValueError, match="NaN or infinite"):
        tree_map(lambda a: np.full_like(a, np.inf), dict(p) | {"x": p["b1"]})


def test_tree_map_does_not_touch_its_inputs() -> None:
    d = nf.to_dict(nf.init_params([2, 3, 1]))
    before = {k: v.copy() for k, v in d.items()}
    out = tree_map(lambda a: a, d)
    assert all(np.array_equal(d[k], before[k]) and d[k].flags.writeable for k in d)
    assert not any(np.shares_memory(out[k], d[k]) for k in d)


@given(architectures(max_depth=5, max_width=40))
def test_num_params_counts_every_weight_and_bias(arch: Architecture) -> None:
    p = network(arch, np.float32, 0)
    assert num_params(p) == sum(v.size for v in p.values())
    assert num_params(dict(p)) == num_params(p)


def test_num_params_checks_the_network() -> None:
    with pytest.raises(ValueError, match="keys"):
        num_params({"W1": np.ones((2, 1))})


def test_summary_is_a_table_of_layers_counts_dtype_and_activations() -> None:
    p = nf.init_params(
        [4, 5, 3, 2], hidden=("tanh", "gelu"), output="softmax", dtype=np.float32
    )
    lines = summary(p).splitlines()
    assert lines[0].split() == ["layer", "W", "b", "params", "activation"]
    assert lines[1].split() == ["1", "(4,", "5)", "(5,)", "25", "tanh"]
    assert lines[2].split() == ["2", "(5,", "3)", "(3,)", "18", "gelu"]
    assert lines[3].split() == ["3", "(3,", "2)", "(2,)", "8", "softmax"]
    assert lines[4].split() == ["total", "51"]
    assert lines[5] == "dtype: float32"
    assert len(lines) == 6
    counts = zip(lines[1:5], ["25", "18", "8", "51"], strict=True)
    assert {line.index(n) for line, n in counts} == {lines[0].index("params")}


def test_summary_of_one_layer_and_of_a_plain_mapping() -> None:
    one = summary(nf.init_params([3, 2], output="identity"))
    assert one.splitlines()[1].split() == ["1", "(3,", "2)", "(2,)", "8", "identity"]
    bare = summary(nf.to_dict(nf.init_params([3, 4, 1])))
    assert "relu (default)" in bare
    assert "sigmoid (default)" in bare
    assert summary(nf.freeze(dict(nf.init_params([3, 4, 1])))) == bare
