import numpy as np
import pytest
from keras.src import testing

from kgan.layers import DrawCanvas, DrawReader, LearnedInitialState

CELL_NAMES = ["lstm", "gru", "simple", "sigmoid"]


def test_initial_canvas_from_the_data_mean():
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.2, 0.3, size=(50, 12, 12, 1)), -1, 1)
    layer = DrawCanvas(3, (12, 12, 1))
    layer.build((None, 4, 16))
    layer.initialize_from(images)  # "mean", the default
    np.testing.assert_allclose(
        np.tanh(layer.initial_canvas.numpy()), images.mean(axis=0), atol=1e-5
    )
    with pytest.raises(ValueError, match=r"Received: images.shape=\(50, 12, 12\)"):
        layer.initialize_from(images[..., 0])
    with pytest.raises(ValueError, match="Received: mode='median'"):
        layer.initialize_from(images, mode="median")


def test_initial_canvas_sampled_from_each_pixel_marginal():
    rng = np.random.default_rng(0)
    images = rng.uniform(-0.9, 0.9, size=(40, 6, 7, 2))
    layer = DrawCanvas(2, (6, 7, 2))
    layer.build((None, 3, 5))
    layer.initialize_from(images, mode="sample", seed=3)
    canvas = np.tanh(layer.initial_canvas.numpy())
    # Every pixel is one of that pixel's training values...
    matches = np.abs(images - canvas[None]) < 1e-5
    assert matches.any(axis=0).all()
    # ...taken from many different images, not from one.
    assert len(set(np.argmax(matches, axis=0).ravel())) > 20
    again = DrawCanvas(2, (6, 7, 2))
    again.build((None, 3, 5))
    again.initialize_from(images, mode="sample", seed=3)
    np.testing.assert_array_equal(
        again.initial_canvas.numpy(), layer.initial_canvas.numpy()
    )


def test_sigmoid_canvas_for_unit_range_data():
    images = np.random.default_rng(0).uniform(0.1, 0.9, size=(20, 6, 6, 2))
    layer = DrawCanvas(2, (6, 6, 2), activation="sigmoid")
    layer.build((None, 3, 5))
    layer.initialize_from(images, mode="mean")
    mean = 1 / (1 + np.exp(-layer.initial_canvas.numpy()))
    np.testing.assert_allclose(mean, images.mean(axis=0), atol=1e-5)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_reader_first_glimpse_ignores_the_image(cell):
    reader = DrawReader(3, steps=3, units=6, cell=cell, return_attention=True)
    rng = np.random.default_rng(1)
    a, b = (rng.uniform(-1, 1, size=(2, 10, 10, 1)).astype("float32") for _ in "ab")
    last_a, where_a = reader(a)
    last_b, where_b = reader(b)
    assert last_a.shape == (2, 6) and where_a.shape == (2, 3, 5)
    # h_0 is the same for every image, so the first read is placed before
    # anything is seen...
    np.testing.assert_allclose(where_a[:, 0], where_b[:, 0], rtol=1e-6)
    # ...and what it sees moves the later reads and the final state.
    assert np.abs(where_a[:, 1:] - where_b[:, 1:]).max() > 0
    assert np.abs(last_a - last_b).max() > 0


class DrawBlocksHarnessTest(testing.TestCase):
    def test_canvas_layer_harness(self):
        self.run_layer_test(
            DrawCanvas,
            init_kwargs={"n": 2, "image_shape": (6, 5, 1)},
            input_shape=(2, 3, 4),
            expected_output_shape=((2, 6, 5, 1), (2, 3, 6, 5, 1), (2, 3, 5)),
            expected_num_trainable_weights=5,
        )

    def test_reader_layer_harness(self):
        # 3 cell weights, the read's 2, and the learned h_0 (and c_0 of an LSTM).
        for cell in CELL_NAMES:
            for initial_state, states in (
                ("learned", 1 + (cell == "lstm")),
                ("zeros", 0),
            ):
                self.run_layer_test(
                    DrawReader,
                    init_kwargs={
                        "n": 2,
                        "steps": 2,
                        "units": 3,
                        "cell": cell,
                        "initial_state": initial_state,
                    },
                    input_shape=(2, 6, 6, 1),
                    expected_output_shape=(2, 3),
                    expected_num_trainable_weights=5 + states,
                )

    def test_learned_initial_state_harness(self):
        self.run_layer_test(
            LearnedInitialState,
            init_kwargs={"units": 4, "count": 2},
            input_shape=(3, 5, 7),
            expected_output_shape=[(3, 4), (3, 4)],
            expected_num_trainable_weights=2,
            run_training_check=False,  # its outputs do not depend on the input
        )


def test_learned_initial_state_broadcasts_its_vectors():
    layer = LearnedInitialState(3, count=2)
    layer.build((None, 6))
    vectors = [np.array([1.0, -2.0, 0.5]), np.array([0.0, 3.0, -1.0])]
    for state, vector in zip(layer.states, vectors, strict=True):
        state.assign(vector)
    outputs = layer(np.zeros((4, 6), "float32"))
    for output, vector in zip(outputs, vectors, strict=True):
        np.testing.assert_array_equal(output, np.tile(vector, (4, 1)))
    with pytest.raises(ValueError, match="Received: count=0"):
        LearnedInitialState(3, count=0)


def test_reader_rejects_unknown_initial_state():
    with pytest.raises(ValueError, match="Received: initial_state='random'"):
        DrawReader(2, 2, 3, initial_state="random")
