"""A learned initial state for recurrent networks."""

import keras
from keras import ops

from kgan.layers.checks import check_positive


@keras.saving.register_keras_serializable(package="kgan")
class LearnedInitialState(keras.layers.Layer):
    """Learned initial states of an RNN, the same for every sample.

    It returns `count` tensors `(batch, units)`, each the broadcast of one
    trainable vector, to pass as an RNN's `initial_state` (an LSTM has two
    states, h and c; a GRU or simple RNN one). The DRAW-GAN paper learns
    h_0 of both networks from random initial values instead of starting at
    zero.

    Args:
        units: Size of each state.
        count: Number of state tensors. Defaults to `1`.
        initializer: Initializer of the vectors. Defaults to
            `"random_normal"` (N(0, 0.05^2)): random initial values.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Any tensor whose first axis is the batch.

    Returns:
        A list of `count` tensors `(batch, units)`.

    Reference:
        - Kataoka, Matsubara, Uehara, "Image generation using generative
          adversarial networks and attention mechanism", JSAI 2016.
    """

    def __init__(self, units, count=1, initializer="random_normal", **kwargs):
        super().__init__(**kwargs)
        check_positive(units=units, count=count)
        self.units = units
        self.count = count
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.states = [
            self.add_weight(
                shape=(self.units,), initializer=self.initializer, name=f"state_{i}"
            )
            for i in range(self.count)
        ]

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        return [
            ops.broadcast_to(ops.cast(state, self.compute_dtype), (batch, self.units))
            for state in self.states
        ]

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], self.units)] * self.count

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "count": self.count,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
